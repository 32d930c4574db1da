package org.nssifhir.server.assessment;

import static org.nssifhir.server.conformance.NssiCanonicals.CONCEPTS_SYSTEM;

import ca.uhn.fhir.jpa.api.dao.DaoRegistry;
import ca.uhn.fhir.jpa.searchparam.SearchParameterMap;
import ca.uhn.fhir.rest.api.SortOrderEnum;
import ca.uhn.fhir.rest.api.SortSpec;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.api.server.SystemRequestDetails;
import ca.uhn.fhir.rest.param.ReferenceParam;
import ca.uhn.fhir.rest.param.TokenParam;
import ca.uhn.fhir.rest.param.UriParam;
import ca.uhn.fhir.rest.server.exceptions.ForbiddenOperationException;
import ca.uhn.fhir.rest.server.exceptions.InvalidRequestException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.BooleanType;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.DateType;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.IntegerType;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Parameters;
import org.hl7.fhir.r4.model.Questionnaire;
import org.hl7.fhir.r4.model.QuestionnaireResponse;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Type;
import org.nssifhir.server.escalation.EscalationSignals;
import org.nssifhir.server.security.SmartAccess;
import org.nssifhir.server.security.consent.RestrictedRecordAccess;
import org.nssifhir.server.support.ErrorCode;
import org.nssifhir.server.support.WholeHistory;

/**
 * What SDC {@code Questionnaire/[id]/$populate} ({@link PopulateOperationProvider}) answers for the NSSI
 * assessment: a draft response (status in-progress, not stored) pre-filled from what the server holds about the patient:
 * whether there were episodes in the past 12 months, their methods, the number of days with an episode, the
 * last one, the functions, triggers and the most care needed, and the risk and protective factors of the last
 * completed assessment. The person still answers and confirms every item; the intent and ideation questions
 * are never pre-filled, because they must be asked each time. Other Questionnaires (the PHQ-9) get an empty
 * draft for the patient.
 *
 * <p>The authorization rules allow it for tokens that may read Observations; a patient token only for its own
 * record (checked here). The draft is computed with system access and nothing stored is returned.
 */
public class PopulateService {

	private static final List<String> CARE_ORDER = List.of("care-none", "care-self", "care-first-aid", "care-medical", "care-emergency");

	private final DaoRegistry daoRegistry;

	private final RestrictedRecordAccess consent;

	public PopulateService(DaoRegistry daoRegistry, RestrictedRecordAccess consent) {
		this.daoRegistry = daoRegistry;
		this.consent = consent;
	}

	/** The Questionnaire named by id, read through the caller's request (404, and its authorization). */
	public Questionnaire questionnaire(IdType id, RequestDetails request) {
		return (Questionnaire) daoRegistry.getResourceDao("Questionnaire").read(new IdType("Questionnaire", id.getIdPart()), request);
	}

	/** The Questionnaire with this canonical URL (a version after '|' is ignored), through the caller's request. */
	public Questionnaire questionnaire(String url, RequestDetails request) {
		if (url == null || url.isBlank()) {
			throw new InvalidRequestException(ErrorCode.OPERATION_PARAMETER_INVALID.message("canonical is required"));
		}
		int bar = url.indexOf('|');
		SearchParameterMap map = WholeHistory.search().add(Questionnaire.SP_URL, new UriParam(bar < 0 ? url : url.substring(0, bar)));
		List<IBaseResource> found = WholeHistory.all(daoRegistry.getResourceDao("Questionnaire").search(map, request));
		if (found.isEmpty()) {
			throw new InvalidRequestException(ErrorCode.OPERATION_PARAMETER_INVALID.message("No Questionnaire with this canonical"));
		}
		return (Questionnaire) found.get(0);
	}

	/** The draft response for this patient, in Parameters ({@code response}). */
	public Parameters populate(Questionnaire questionnaire, IdType patient, RequestDetails request) {
		// a patient token populates only from its own record (HAPI's rules cannot see operation parameters)
		SmartAccess.current().filter(SmartAccess::isPatientLevelOnly).ifPresent(access -> {
			if (!access.patientId().map(patient.getIdPart()::equals).orElse(false)) {
				throw new ForbiddenOperationException(ErrorCode.SCOPE_DOES_NOT_ALLOW.message("The token's patient is not the subject"));
			}
		});
		// pre-filled from restricted (R) records: the same rule as reading them (treating relationship, Consent, BTG)
		consent.require(request, patient.getIdPart());
		request = new SystemRequestDetails();
		daoRegistry.getResourceDao("Patient").read(patient, request);

		Map<String, List<Type>> answers = new LinkedHashMap<>();
		if (AssessmentExtractor.ASSESSMENT.equals(questionnaire.getUrl())) {
			answers = prefill(patient, request);
		}
		QuestionnaireResponse response = new QuestionnaireResponse();
		response.setQuestionnaire(questionnaire.getUrl() + (questionnaire.hasVersion() ? "|" + questionnaire.getVersion() : ""));
		response.setStatus(QuestionnaireResponse.QuestionnaireResponseStatus.INPROGRESS);
		response.setSubject(new Reference(patient.getValue()));
		response.setAuthored(new Date());
		copyItems(questionnaire.getItem(), response.getItem(), answers);
		Parameters out = new Parameters();
		out.addParameter().setName("response").setResource(response);
		return out;
	}

	private Map<String, List<Type>> prefill(IdType patient, RequestDetails request) {
		Map<String, List<Type>> answers = new LinkedHashMap<>();
		Instant yearAgo = Instant.now().minus(365, ChronoUnit.DAYS);
		SearchParameterMap map = WholeHistory.search()
				.add(Observation.SP_SUBJECT, new ReferenceParam(patient.getValue()))
				.add(Observation.SP_CODE, new TokenParam(CONCEPTS_SYSTEM, "nssi-episode"));
		List<Observation> episodes = new ArrayList<>();
		for (IBaseResource r : WholeHistory.all(daoRegistry.getResourceDao("Observation").search(map, request))) {
			Observation obs = (Observation) r;
			if (obs.getStatus() != Observation.ObservationStatus.ENTEREDINERROR && obs.hasEffectiveDateTimeType()
					&& obs.getEffectiveDateTimeType().getValue().toInstant().isAfter(yearAgo)) {
				episodes.add(obs);
			}
		}
		// nothing on record is not "no self-injury": the question is left unanswered, so the person answers it and
		// the intent and method items stay reachable for someone who never told anyone
		if (!episodes.isEmpty()) {
			answers.put("nssi-any-past-year", List.of(new BooleanType(true)));
			answers.put("nssi-methods", distinct(episodes, "method"));
			TreeSet<LocalDate> days = new TreeSet<>();
			TreeSet<LocalDate> nssiDays = new TreeSet<>();
			for (Observation e : episodes) {
				LocalDate day = e.getEffectiveDateTimeType().getValue().toInstant().atZone(ZoneOffset.UTC).toLocalDate();
				days.add(day);
				if (EscalationSignals.isNonSuicidal(e)) {
					nssiDays.add(day);
				}
			}
			// the DSM-5 criterion A day count is about NSSI: only episodes whose intent is recorded as none count
			// (intent present, unsure or unrecorded is not NSSI); with no such episode it is left unanswered
			if (!nssiDays.isEmpty()) {
				answers.put("nssi-days-past-year", List.of(new IntegerType(nssiDays.size())));
			}
			// java.sql.Date in full: java.util.Date is imported (authored time); only java.sql.Date.valueOf takes a LocalDate
			answers.put("nssi-last-occurrence", List.of(new DateType(java.sql.Date.valueOf(days.last()))));
			List<Type> functions = distinct(episodes, "function");
			if (!functions.isEmpty()) {
				answers.put("nssi-functions", functions);
			}
			List<Type> triggers = distinct(episodes, "trigger");
			if (!triggers.isEmpty()) {
				answers.put("nssi-triggers", triggers);
			}
			distinct(episodes, "care-level").stream()
					.map(c -> (Coding) c)
					.max((a, b) -> Integer.compare(CARE_ORDER.indexOf(a.getCode()), CARE_ORDER.indexOf(b.getCode())))
					.ifPresent(c -> answers.put("nssi-care-level", List.of(c)));
		}
		// the factors of the last completed assessment are a starting point for the clinician to confirm
		SearchParameterMap last = WholeHistory.search()
				.add(QuestionnaireResponse.SP_SUBJECT, new ReferenceParam(patient.getValue()))
				.add(QuestionnaireResponse.SP_QUESTIONNAIRE, new ReferenceParam(AssessmentExtractor.ASSESSMENT))
				.add(QuestionnaireResponse.SP_STATUS, new TokenParam("completed"));
		last.setSort(new SortSpec(QuestionnaireResponse.SP_AUTHORED, SortOrderEnum.DESC));
		last.setCount(1);
		List<IBaseResource> previous = daoRegistry.getResourceDao("QuestionnaireResponse").search(last, request).getResources(0, 1);
		if (!previous.isEmpty()) {
			QuestionnaireResponse qr = (QuestionnaireResponse) previous.get(0);
			for (String linkId : List.of("nssi-risk-factors", "nssi-protective-factors")) {
				List<Type> values = EscalationSignals.answers(qr.getItem(), linkId).map(Type::copy).toList();
				if (!values.isEmpty()) {
					answers.put(linkId, values);
				}
			}
		}
		return answers;
	}

	private static List<Type> distinct(List<Observation> episodes, String component) {
		Map<String, Type> seen = new LinkedHashMap<>();
		for (Observation e : episodes) {
			for (Observation.ObservationComponentComponent c : e.getComponent()) {
				boolean matches = c.getCode().getCoding().stream().anyMatch(k -> CONCEPTS_SYSTEM.equals(k.getSystem()) && component.equals(k.getCode()));
				if (matches && c.getValue() instanceof CodeableConcept cc && cc.hasCoding()) {
					Coding coding = cc.getCodingFirstRep();
					seen.putIfAbsent(coding.getSystem() + "|" + coding.getCode(), coding.copy());
				}
			}
		}
		return new ArrayList<>(seen.values());
	}

	/** The response mirrors the Questionnaire's structure; only items with an answer (and their groups) appear. */
	private static boolean copyItems(
			List<Questionnaire.QuestionnaireItemComponent> items,
			List<QuestionnaireResponse.QuestionnaireResponseItemComponent> into,
			Map<String, List<Type>> answers) {
		boolean any = false;
		for (Questionnaire.QuestionnaireItemComponent item : items) {
			QuestionnaireResponse.QuestionnaireResponseItemComponent out = new QuestionnaireResponse.QuestionnaireResponseItemComponent();
			out.setLinkId(item.getLinkId()).setText(item.getText());
			boolean has = false;
			for (Type value : answers.getOrDefault(item.getLinkId(), List.of())) {
				out.addAnswer().setValue(value);
				has = true;
			}
			has |= copyItems(item.getItem(), out.getItem(), answers);
			if (has) {
				into.add(out);
				any = true;
			}
		}
		return any;
	}
}
