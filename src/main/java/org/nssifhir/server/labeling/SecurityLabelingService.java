package org.nssifhir.server.labeling;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.RuntimeResourceDefinition;
import ca.uhn.fhir.jpa.api.dao.DaoRegistry;
import ca.uhn.fhir.jpa.api.dao.IDao;
import ca.uhn.fhir.jpa.model.util.JpaConstants;
import ca.uhn.fhir.jpa.searchparam.MatchUrlService;
import ca.uhn.fhir.jpa.searchparam.SearchParameterMap;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.api.server.SystemRequestDetails;
import ca.uhn.fhir.rest.api.server.storage.IResourcePersistentId;
import ca.uhn.fhir.rest.api.server.storage.TransactionDetails;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import java.time.Period;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Date;
import java.util.IdentityHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.hl7.fhir.instance.model.api.IBaseBundle;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.instance.model.api.IIdType;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Condition;
import org.hl7.fhir.r4.model.DomainResource;
import org.hl7.fhir.r4.model.Encounter;
import org.hl7.fhir.r4.model.Flag;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.Identifier;
import org.hl7.fhir.r4.model.Meta;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Practitioner;
import org.hl7.fhir.r4.model.Procedure;
import org.hl7.fhir.r4.model.QuestionnaireResponse;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Resource;
import org.hl7.fhir.r4.model.Task;
import org.nssifhir.server.conformance.NssiCanonicals;
import org.nssifhir.server.conformance.NssiResourceClassifier;
import org.nssifhir.server.escalation.EscalationService;
import org.nssifhir.server.security.policy.AccessPolicy;
import org.nssifhir.server.support.RequestScoped;
import org.nssifhir.server.support.SecurityLabels;

/**
 * Decides the security labels of a resource being written, whatever the route (REST, batch, transaction,
 * operations, internal writes): it is called from {@link SecurityLabelingInterceptor}'s storage hooks.
 *
 * <p>The rules (README "Security labels"), each recorded on the resource as a tag {@value #RULE_SYSTEM}|rule:
 * <ul>
 *   <li>{@code self-harm-suicidality}, {@code behavioral-health}: any Coding anywhere in the resource (code, value,
 *       components, reasons, categories, answers, contained resources; not {@code meta}) is in a sensitive-category
 *       ValueSet of our package ({@link SensitiveCategories}); for a QuestionnaireResponse also the codes of the
 *       answered items ({@link QuestionnaireItemCodes}).</li>
 *   <li>{@code nssi-content}: an NSSI resource by our local codes, our Questionnaires or a claimed profile of ours.</li>
 *   <li>{@code escalation-alert}: a Flag or Task this server raised.</li>
 *   <li>{@code reference-to-restricted}: a resource that is not sensitive by its own content, but points at
 *       clinical content that is (a MedicationRequest whose reasonReference is a labelled Condition; an Observation
 *       derived from a sensitive response), through any reference other than to a participant, place or context
 *       (Patient, Practitioner, Encounter…). The target is judged by its stored labels, or by these same rules
 *       when it is written in the same transaction.</li>
 * </ul>
 * A resource a rule matches gets confidentiality at least R (high-water mark: a client's U/L/M/N is replaced by R,
 * a client's V is kept) and sensitivity BH. An update never lowers a previous version's confidentiality. Any
 * resource that ends up R or V gets ADOL ({@code adolescent-patient}) when its patient was under 18 at the time.
 */
public class SecurityLabelingService {

	/** Tag system of the rules that labelled a resource (meta.tag); clients cannot set it. */
	public static final String RULE_SYSTEM = "urn:nssi-fhir:label-rule";

	public static final String RULE_NSSI_CONTENT = "nssi-content";
	public static final String RULE_ALERT = "escalation-alert";
	public static final String RULE_REFERENCE = "reference-to-restricted";
	public static final String RULE_ADOLESCENT = "adolescent-patient";

	static final int AGE_OF_MAJORITY = 18;

	/**
	 * The version of the rules' code (this class and what it calls). Raise it when a change makes the same resource
	 * labelled differently: with the sensitive-category ValueSets it makes the rules' fingerprint
	 * ({@link SensitiveCategories#fingerprint()}), and a new fingerprint relabels the stored data at startup.
	 */
	// 12-06.2: a minor's entries of in-process transactions get ADOL; 12-07.1: a Condition coded with the local nssi
	// code is an NSSI condition (package 0.8.0), labelled as NSSI content
	public static final String RULES_VERSION = "2026-12-07.1";

	/** v3-Confidentiality, lowest to highest. */
	private static final List<String> CONFIDENTIALITY_ORDER = List.of("U", "L", "M", "N", "R", "V");
	private static final int RESTRICTED_LEVEL = CONFIDENTIALITY_ORDER.indexOf(SecurityLabels.RESTRICTED);

	/** Types never labelled by content: definitions (a PHQ-9 Questionnaire is not anyone's record), people, places, infrastructure. */
	private static final Set<String> NOT_LABELLED = Stream.concat(AccessPolicy.DEFINITIONAL_TYPES.stream(), Stream.of(
					"AuditEvent", "Subscription", "Parameters", "Binary", "Patient", "Practitioner", "PractitionerRole", "Organization",
					"Location", "RelatedPerson", "Device", "Endpoint", "HealthcareService", "Group", "CareTeam", "Consent", "Provenance"))
			.collect(Collectors.toUnmodifiableSet());

	/** Reference targets that are participants, places or context: pointing at them says nothing sensitive. */
	private static final Set<String> CONTEXT_TYPES = Set.of(
			"Patient", "Practitioner", "PractitionerRole", "Organization", "Location", "RelatedPerson", "Device", "Group",
			"HealthcareService", "Encounter", "EpisodeOfCare", "Endpoint", "Questionnaire", "Medication", "Substance",
			"Specimen", "CareTeam", "Consent", "AuditEvent", "Provenance", "Coverage", "Account", "Appointment", "Schedule", "Slot");

	private final FhirContext fhirContext;
	private final DaoRegistry daoRegistry;
	private final MatchUrlService matchUrlService;
	private final SensitiveCategories categories;
	private final QuestionnaireItemCodes itemCodes;

	public SecurityLabelingService(
			FhirContext fhirContext, DaoRegistry daoRegistry, MatchUrlService matchUrlService, SensitiveCategories categories,
			QuestionnaireItemCodes itemCodes) {
		this.fhirContext = fhirContext;
		this.daoRegistry = daoRegistry;
		this.matchUrlService = matchUrlService;
		this.categories = categories;
		this.itemCodes = itemCodes;
	}

	/** Whether resources of this type are ever labelled by content (definitions, people, places and infrastructure are not). */
	public static boolean labelsType(String resourceType) {
		return !NOT_LABELLED.contains(resourceType);
	}

	private static final String TRANSACTION_BUNDLE = SecurityLabelingService.class.getName() + ".transaction";

	/** Keeps the transaction Bundle with the request (whose entries' sub-requests share its user data). */
	static void rememberTransaction(IBaseBundle bundle, RequestDetails request) {
		if (request != null && bundle instanceof Bundle b) {
			RequestScoped.put(request, TRANSACTION_BUNDLE, b);
		}
	}

	/** Labels the resource in place. {@code previous} is the stored version on an update, else null. */
	public void label(IBaseResource resource, IBaseResource previous, RequestDetails request, TransactionDetails transaction) {
		if (!(resource instanceof Resource r)) {
			return;
		}
		WriteContext context = new WriteContext(request, transaction);
		context.remember(r);
		if (previous instanceof Resource p) {
			keepPreviousLabels(r, p, request);
		}
		if (NOT_LABELLED.contains(r.fhirType())) {
			return;
		}
		Meta meta = r.getMeta();
		// the rule tags are the server's statement: a client's are dropped and the current rules recorded
		meta.getTag().removeIf(t -> RULE_SYSTEM.equals(t.getSystem()));
		Set<String> rules = classify(r, context, true);
		int level = Math.max(confidentiality(r), previous instanceof Resource p ? confidentiality(p) : -1);
		if (!rules.isEmpty()) {
			setConfidentiality(meta, Math.max(level, RESTRICTED_LEVEL));
			if (!SecurityLabels.has(meta, SecurityLabels.ACT_CODE_SYSTEM, SecurityLabels.BEHAVIORAL_HEALTH)) {
				meta.addSecurity(new Coding(SecurityLabels.ACT_CODE_SYSTEM, SecurityLabels.BEHAVIORAL_HEALTH, "behavioral health information sensitivity"));
			}
			rules.forEach(rule -> meta.addTag(RULE_SYSTEM, rule, null));
		} else if (level > confidentiality(r)) {
			// an update that no longer matches a rule keeps the previous version's level and its reasons
			setConfidentiality(meta, level);
			((Resource) previous).getMeta().getTag().stream()
					.filter(t -> RULE_SYSTEM.equals(t.getSystem()) && !RULE_ADOLESCENT.equals(t.getCode()))
					.forEach(t -> meta.addTag(t.copy()));
		}
		if (!SecurityLabels.gating(r).isEmpty() && adolescent(r, context)) {
			if (!SecurityLabels.has(meta, SecurityLabels.ACT_CODE_SYSTEM, SecurityLabels.ADOLESCENT)) {
				SecurityLabels.labelAdolescent(meta);
			}
			meta.addTag(RULE_SYSTEM, RULE_ADOLESCENT, null);
		}
	}

	/**
	 * An update stores exactly the labels the resource ends up with. HAPI keeps a previous version's security labels
	 * that the new one lacks (unless the request asks for a snapshot), which would leave a replaced confidentiality
	 * beside the new one (N beside R: two confidentialities, the lower one read by anyone who looks at the first).
	 * So the previous version's labels are copied into the resource (what HAPI would keep anyway), except its
	 * confidentiality when the resource states one (the rules then decide: never below the previous level), and
	 * HAPI is told to store the result as it is ({@code X-Meta-Snapshot-Mode: SECURITY_LABEL}). The header stays on
	 * the request, so every later update in the same transaction is stored the same way; each goes through here.
	 */
	private static void keepPreviousLabels(Resource r, Resource previous, RequestDetails request) {
		Meta meta = r.getMeta();
		boolean ownConfidentiality = confidentiality(r) >= 0;
		for (Coding label : previous.getMeta().getSecurity()) {
			boolean isConfidentiality = SecurityLabels.CONFIDENTIALITY_SYSTEM.equals(label.getSystem());
			boolean present = meta.getSecurity().stream().anyMatch(c -> Objects.equals(c.getSystem(), label.getSystem())
					&& Objects.equals(c.getCode(), label.getCode()));
			if ((!isConfidentiality || !ownConfidentiality) && !present) {
				meta.addSecurity(label.copy());
			}
		}
		if (request != null && !request.getHeaders(META_SNAPSHOT_MODE).contains(SNAPSHOT_SECURITY_LABELS)) {
			request.addHeader(META_SNAPSHOT_MODE, SNAPSHOT_SECURITY_LABELS);
		}
	}

	private static final String META_SNAPSHOT_MODE = JpaConstants.HEADER_META_SNAPSHOT_MODE;
	private static final String SNAPSHOT_SECURITY_LABELS = "SECURITY_LABEL";

	/** The rules the resource's own content (and, at the top level, what it points at) matches. */
	Set<String> classify(Resource r, WriteContext context, boolean followReferences) {
		Set<String> rules = new LinkedHashSet<>();
		// self-harm of unknown intent (an intent-neutral SNOMED CT concept alone) is no NSSI diagnosis since 0.8.0 but
		// stays NSSI care content: labelled exactly as when those codes counted as NSSI codes
		if (!NssiResourceClassifier.profilesFor(r).isEmpty() || NssiResourceClassifier.isSelfHarmOfUnknownIntent(r)) {
			rules.add(RULE_NSSI_CONTENT);
		}
		if (raisedAlert(r)) {
			rules.add(RULE_ALERT);
		}
		if (supportRequest(r)) {
			// a person's request for support from their app (a Task, which no NSSI profile covers): NSSI care content,
			// restricted whatever labels the app sent
			rules.add(RULE_NSSI_CONTENT);
		}
		Set<Coding> metaCodings = Collections.newSetFromMap(new IdentityHashMap<>());
		metaCodings.addAll(r.getMeta().getSecurity());
		metaCodings.addAll(r.getMeta().getTag());
		if (r instanceof DomainResource d) {
			d.getContained().forEach(c -> {
				metaCodings.addAll(c.getMeta().getSecurity());
				metaCodings.addAll(c.getMeta().getTag());
			});
		}
		for (Coding coding : fhirContext.newTerser().getAllPopulatedChildElementsOfType(r, Coding.class)) {
			if (!metaCodings.contains(coding)) {
				categories.ruleFor(coding.getSystem(), coding.getCode()).ifPresent(rules::add);
			}
		}
		if (r instanceof QuestionnaireResponse qr && !NssiCanonicals.isOurs(qr.getQuestionnaire())) {
			itemCodes.codesByLinkId(qr).values().stream().flatMap(List::stream)
					.forEach(c -> categories.ruleFor(c.getSystem(), c.getCode()).ifPresent(rules::add));
		}
		if (rules.isEmpty() && followReferences && pointsAtSensitive(r, context)) {
			rules.add(RULE_REFERENCE);
		}
		return rules;
	}

	private static boolean supportRequest(Resource r) {
		return r instanceof Task t && t.getCode().getCoding().stream()
				.anyMatch(c -> NssiCanonicals.CONCEPTS_SYSTEM.equals(c.getSystem()) && "support-request".equals(c.getCode()));
	}

	private static boolean raisedAlert(Resource r) {
		List<Identifier> identifiers = r instanceof Flag f ? f.getIdentifier()
				: r instanceof Task t ? t.getIdentifier() : List.of();
		return identifiers.stream().anyMatch(i -> EscalationService.EVENT_SYSTEM.equals(i.getSystem()));
	}

	private boolean pointsAtSensitive(Resource r, WriteContext context) {
		for (Reference ref : fhirContext.newTerser().getAllPopulatedChildElementsOfType(r, Reference.class)) {
			String type = ref.getReferenceElement().getResourceType();
			if (type != null && CONTEXT_TYPES.contains(type)) {
				continue;
			}
			if (ref.getReference() != null && ref.getReference().startsWith("#")) {
				continue; // contained: already part of this resource's content
			}
			Optional<Resource> target = resolve(ref, context);
			if (target.isEmpty() || CONTEXT_TYPES.contains(target.get().fhirType()) || target.get() == r) {
				continue;
			}
			if (!SecurityLabels.gating(target.get()).isEmpty() || !classify(target.get(), context, false).isEmpty()) {
				return true;
			}
		}
		return false;
	}

	// ---------------------------------------------------------------- adolescent

	private boolean adolescent(Resource r, WriteContext context) {
		Optional<Date> birthDate = patientOf(r, context).map(Patient::getBirthDate);
		if (birthDate.isEmpty()) {
			return false;
		}
		LocalDate when = clinicalDate(r).map(SecurityLabelingService::toLocalDate).orElse(LocalDate.now(ZoneOffset.UTC));
		return Period.between(toLocalDate(birthDate.get()), when).getYears() < AGE_OF_MAJORITY;
	}

	/** The patient the resource is about: subject, patient, for (Task) or beneficiary, resolved as {@link #resolve} does. */
	Optional<Patient> patientOf(Resource r, WriteContext context) {
		RuntimeResourceDefinition definition = fhirContext.getResourceDefinition(r);
		for (String element : List.of("subject", "patient", "for", "beneficiary")) {
			if (definition.getChildByName(element) == null) {
				continue;
			}
			for (Reference ref : fhirContext.newTerser().getValues(r, element, Reference.class)) {
				Optional<Resource> target = resolve(ref, context);
				if (target.isPresent() && target.get() instanceof Patient p) {
					return Optional.of(p);
				}
			}
		}
		return Optional.empty();
	}

	private static Optional<Date> clinicalDate(Resource r) {
		if (r instanceof Observation obs && obs.hasEffectiveDateTimeType()) {
			return Optional.ofNullable(obs.getEffectiveDateTimeType().getValue());
		}
		if (r instanceof Condition c) {
			if (c.hasOnsetDateTimeType()) {
				return Optional.ofNullable(c.getOnsetDateTimeType().getValue());
			}
			return Optional.ofNullable(c.getRecordedDate());
		}
		if (r instanceof Encounter e && e.hasPeriod()) {
			return Optional.ofNullable(e.getPeriod().getStart());
		}
		if (r instanceof Procedure p && p.hasPerformedDateTimeType()) {
			return Optional.ofNullable(p.getPerformedDateTimeType().getValue());
		}
		return Optional.empty();
	}

	private static LocalDate toLocalDate(Date date) {
		return date.toInstant().atZone(ZoneOffset.UTC).toLocalDate();
	}

	// ---------------------------------------------------------------- references

	/**
	 * The resource a reference points at, as it stands in this write: the resource the parser linked to it, an
	 * entry of the transaction being processed (by fullUrl such as {@code urn:uuid:…}, by the id HAPI assigned, or
	 * by a conditional create's {@code ifNoneExist}), a placeholder HAPI already resolved, or the stored resource
	 * (by id or by a conditional reference that matches exactly one).
	 */
	Optional<Resource> resolve(Reference ref, WriteContext context) {
		if (ref.getResource() instanceof Resource linked) {
			return Optional.of(linked);
		}
		String value = ref.getReference();
		if (value == null || value.isBlank() || value.startsWith("#")) {
			return Optional.empty();
		}
		Optional<Resource> inBundle = context.bundleEntry(value);
		if (inBundle.isPresent()) {
			return inBundle;
		}
		TransactionDetails transaction = context.transaction();
		if (transaction != null) {
			// HAPI records what it resolved in this transaction: placeholders (urn:uuid:…) and conditional URLs
			IBaseResource known = transaction.getResolvedResource(new IdType(value));
			if (known instanceof Resource r) {
				return Optional.of(r);
			}
			var persistentId = value.contains("?") ? matchUrl(transaction, value) : transaction.getResolvedResourceId(new IdType(value));
			IIdType resolved = persistentId == null ? null : persistentId.getAssociatedResourceId();
			if (persistentId != null && (resolved == null || !resolved.hasIdPart())) {
				// HAPI's JPA ids do not always name the FHIR id: find the resource this request wrote with that pid
				Optional<Resource> written = context.writtenWithPid(persistentId);
				if (written.isPresent()) {
					return written;
				}
			}
			if (resolved != null && resolved.hasIdPart()) {
				value = resolved.toUnqualifiedVersionless().getValue();
				known = transaction.getResolvedResource(new IdType(value));
				if (known instanceof Resource r) {
					return Optional.of(r);
				}
				inBundle = context.bundleEntry(value);
				if (inBundle.isPresent()) {
					return inBundle;
				}
			} else if (value.startsWith("urn:")) {
				return Optional.empty();
			}
		}
		try {
			int question = value.indexOf('?');
			if (question > 0) {
				String type = value.substring(0, question);
				RuntimeResourceDefinition definition = fhirContext.getResourceDefinition(type);
				SearchParameterMap map = matchUrlService.translateMatchUrl(value, definition);
				map.setLoadSynchronousUpTo(2);
				List<IBaseResource> found = daoRegistry.getResourceDao(type).search(map, new SystemRequestDetails()).getResources(0, 2);
				if (found.size() == 1) {
					return Optional.of((Resource) found.get(0));
				}
				// not stored yet: an entry of this transaction that HAPI has not reached (it stores conditional creates
				// after the other entries), named by its conditional create or update URL or by its identifier
				return found.isEmpty() ? context.conditionalEntry(value) : Optional.empty();
			}
			IdType id = new IdType(value);
			if (!id.hasResourceType() || !id.hasIdPart() || id.isAbsolute() || !daoRegistry.isResourceTypeSupported(id.getResourceType())) {
				return Optional.empty();
			}
			return Optional.of((Resource) daoRegistry.getResourceDao(id.getResourceType()).read(id.toUnqualifiedVersionless(), new SystemRequestDetails()));
		} catch (RuntimeException e) {
			// missing, deleted or malformed: referential integrity answers that on its own; nothing to label from
			return Optional.empty();
		}
	}

	private static IResourcePersistentId<?> matchUrl(TransactionDetails transaction, String url) {
		Map<String, IResourcePersistentId> resolved = transaction.getResolvedMatchUrls();
		if (resolved.containsKey(url)) {
			return resolved.get(url);
		}
		String decoded = URLDecoder.decode(url, StandardCharsets.UTF_8);
		return resolved.entrySet().stream()
				.filter(e -> decoded.equals(URLDecoder.decode(e.getKey(), StandardCharsets.UTF_8)))
				.map(Map.Entry::getValue)
				.findFirst()
				.orElse(null);
	}

	/** The request being processed: its transaction or batch Bundle (when there is one) and HAPI's transaction details. */
	record WriteContext(RequestDetails request, TransactionDetails transaction) {

		/** Request user data (shared by a transaction's entries): every resource this request has written so far. */
		private static final String WRITTEN = WriteContext.class.getName() + ".written";

		@SuppressWarnings("unchecked")
		private List<Resource> written() {
			if (request == null) {
				return new ArrayList<>();
			}
			return (List<Resource>) RequestScoped.value(request, WRITTEN, () -> new CopyOnWriteArrayList<Resource>());
		}

		void remember(Resource resource) {
			if (request != null) {
				written().add(resource);
			}
		}

		/** A resource this request wrote, by the JPA id HAPI assigned it (set on the resource once stored). */
		Optional<Resource> writtenWithPid(IResourcePersistentId<?> pid) {
			Object id = pid.getId();
			for (Resource r : written()) {
				Object stored = r.getUserData(IDao.RESOURCE_PID_KEY);
				if (pid.equals(stored) || (stored instanceof IResourcePersistentId<?> p && id.equals(p.getId()))
						|| (r.getIdElement().hasIdPart() && String.valueOf(id).equals(r.getIdElement().getIdPart()))) {
					return Optional.of(r);
				}
			}
			return Optional.empty();
		}

		/**
		 * The entry of the request's transaction that a conditional reference ({@code Patient?identifier=s|v}) names:
		 * a conditional create whose {@code ifNoneExist} is that query, a conditional update to that URL, or (a lone
		 * {@code identifier} parameter) the one entry of that type carrying that identifier.
		 */
		Optional<Resource> conditionalEntry(String reference) {
			Bundle bundle = request == null ? null
					: request.getResource() instanceof Bundle b ? b
					: RequestScoped.get(request, TRANSACTION_BUNDLE) instanceof Bundle b ? b : null;
			if (bundle == null) {
				return Optional.empty();
			}
			int question = reference.indexOf('?');
			String type = reference.substring(0, question);
			String query = decode(reference.substring(question + 1));
			List<Resource> matches = new ArrayList<>();
			for (Bundle.BundleEntryComponent entry : bundle.getEntry()) {
				Resource resource = entry.getResource();
				if (resource == null || !type.equals(resource.fhirType())) {
					continue;
				}
				String ifNoneExist = entry.getRequest().getIfNoneExist();
				String url = entry.getRequest().getUrl();
				boolean named = (ifNoneExist != null && query.equals(decode(ifNoneExist.substring(ifNoneExist.indexOf('?') + 1))))
						|| (url != null && url.contains("?") && query.equals(decode(url.substring(url.indexOf('?') + 1))))
						|| hasIdentifier(resource, query);
				if (named) {
					matches.add(resource);
				}
			}
			return matches.size() == 1 ? Optional.of(matches.get(0)) : Optional.empty();
		}

		private static String decode(String text) {
			return URLDecoder.decode(text, StandardCharsets.UTF_8);
		}

		/** Whether the query is one {@code identifier=[system|]value} that the resource carries. */
		private static boolean hasIdentifier(Resource resource, String query) {
			if (!query.startsWith("identifier=") || query.contains("&")) {
				return false;
			}
			String token = query.substring("identifier=".length());
			int bar = token.indexOf('|');
			String system = bar < 0 ? null : token.substring(0, bar);
			String value = bar < 0 ? token : token.substring(bar + 1);
			List<Identifier> identifiers = resource instanceof Patient p ? p.getIdentifier()
					: resource instanceof Practitioner pr ? pr.getIdentifier() : List.of();
			return identifiers.stream().anyMatch(i -> value.equals(i.getValue()) && (system == null || system.isEmpty() || system.equals(i.getSystem())));
		}

		Optional<Resource> bundleEntry(String reference) {
			if (request == null) {
				return Optional.empty();
			}
			int question = reference.indexOf('?');
			if (question > 0) {
				// a conditional reference by identifier to a resource this request wrote (the common EHR form)
				String type = reference.substring(0, question);
				String query = URLDecoder.decode(reference.substring(question + 1), StandardCharsets.UTF_8);
				if (query.startsWith("identifier=") && !query.contains("&")) {
					String token = query.substring("identifier=".length());
					int bar = token.indexOf('|');
					String system = bar < 0 ? null : token.substring(0, bar);
					String value = bar < 0 ? token : token.substring(bar + 1);
					for (Resource r : written()) {
						if (r.fhirType().equals(type) && r instanceof Patient p && p.getIdentifier().stream()
								.anyMatch(i -> value.equals(i.getValue()) && (system == null || system.equals(i.getSystem())))) {
							return Optional.of(r);
						}
					}
				}
				return Optional.empty();
			}
			String plain = new IdType(reference).toUnqualifiedVersionless().getValue();
			for (Resource r : written()) {
				if (r.getIdElement().hasIdPart() && (reference.equals(r.getIdElement().getValue())
						|| plain.equals(r.fhirType() + "/" + r.getIdElement().getIdPart()))) {
					return Optional.of(r);
				}
			}
			// the request's own Bundle over REST; a transaction the server runs itself (demo data, $extract) has none on
			// its request, only the one STORAGE_TRANSACTION_PROCESSING remembered: without it a minor's entries that
			// name their Patient by urn:uuid were labelled without ADOL
			Bundle bundle = request.getResource() instanceof Bundle b ? b
					: RequestScoped.get(request, TRANSACTION_BUNDLE) instanceof Bundle b ? b : null;
			if (bundle == null) {
				return Optional.empty();
			}
			String versionless = new IdType(reference).toUnqualifiedVersionless().getValue();
			for (Bundle.BundleEntryComponent entry : bundle.getEntry()) {
				Resource resource = entry.getResource();
				if (resource == null) {
					continue;
				}
				if (reference.equals(entry.getFullUrl())) {
					return Optional.of(resource);
				}
				if (resource.getIdElement().hasIdPart() && !resource.getIdElement().getIdPart().startsWith("urn:")
						&& versionless.equals(resource.fhirType() + "/" + resource.getIdElement().getIdPart())) {
					return Optional.of(resource);
				}
				String ifNoneExist = entry.getRequest().getIfNoneExist();
				if (ifNoneExist != null && reference.equals(resource.fhirType() + "?" + ifNoneExist)) {
					return Optional.of(resource);
				}
			}
			return Optional.empty();
		}
	}

	/** Highest v3-Confidentiality level on the resource, -1 for none (codes outside U..V are ignored). */
	private static int confidentiality(Resource r) {
		return r.getMeta().getSecurity().stream()
				.filter(c -> SecurityLabels.CONFIDENTIALITY_SYSTEM.equals(c.getSystem()))
				.mapToInt(c -> CONFIDENTIALITY_ORDER.indexOf(c.getCode()))
				.max()
				.orElse(-1);
	}

	private static final Map<String, String> DISPLAYS = Map.of(
			"U", "unrestricted", "L", "low", "M", "moderate", "N", "normal", "R", "restricted", "V", "very restricted");

	/** Exactly one confidentiality label (DS4P: 1..1), at this level. */
	private static void setConfidentiality(Meta meta, int level) {
		String code = CONFIDENTIALITY_ORDER.get(level);
		meta.getSecurity().removeIf(c -> SecurityLabels.CONFIDENTIALITY_SYSTEM.equals(c.getSystem()));
		meta.addSecurity(new Coding(SecurityLabels.CONFIDENTIALITY_SYSTEM, code, DISPLAYS.get(code)));
	}
}
