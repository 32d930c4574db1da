package org.nssifhir.server.security.consent;

import ca.uhn.fhir.jpa.api.dao.DaoRegistry;
import ca.uhn.fhir.jpa.searchparam.SearchParameterMap;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.api.server.SystemRequestDetails;
import ca.uhn.fhir.rest.param.ReferenceParam;
import ca.uhn.fhir.rest.param.TokenParam;
import java.util.Date;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.Consent;
import org.nssifhir.server.support.RequestScoped;
import org.nssifhir.server.support.WholeHistory;
import org.springframework.stereotype.Component;

/**
 * Whether a patient has consented to disclose their restricted or adolescent-confidential information to a proxy:
 * an active {@code Consent} (scope {@code patient-privacy}) whose provision permits, names the proxy as an actor,
 * is in its period, and lists every gating label of the data ({@code R}, {@code V}, {@code ADOL}) in
 * {@code provision.securityLabel} (an empty list covers all). Looked up once per patient, proxy and labels per request.
 */
@Component
public class ProxyConsents {

	static final String SCOPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/consentscope";
	private static final String CACHE = ProxyConsents.class.getName();

	private final DaoRegistry daos;

	public ProxyConsents(DaoRegistry daos) {
		this.daos = daos;
	}

	/** Whether an active Consent releases data carrying all of {@code labels} (R, V, ADOL) to the proxy. */
	public boolean permits(RequestDetails request, String patientId, String proxy, Set<String> labels) {
		// looked up outside any lock: the entries of a batch ask on several threads at once
		Map<String, Boolean> cache = RequestScoped.cache(request, CACHE);
		String key = patientId + "|" + proxy + "|" + labels;
		Boolean known = cache.get(key);
		if (known == null) {
			known = lookUp(patientId, proxy, labels);
			cache.put(key, known);
		}
		return known;
	}

	private boolean lookUp(String patientId, String proxy, Set<String> labels) {
		SearchParameterMap map = SearchParameterMap.newSynchronous()
				.add(Consent.SP_PATIENT, new ReferenceParam("Patient/" + patientId))
				.add(Consent.SP_STATUS, new TokenParam("active"));
		Date now = new Date();
		for (IBaseResource found : WholeHistory.all(daos.getResourceDao(Consent.class).search(map, new SystemRequestDetails()))) {
			Consent consent = (Consent) found;
			boolean privacy = consent.getScope().getCoding().stream().anyMatch(c -> SCOPE_SYSTEM.equals(c.getSystem()) && "patient-privacy".equals(c.getCode()));
			Consent.ProvisionComponent provision = consent.getProvision();
			boolean permit = provision.getType() == Consent.ConsentProvisionType.PERMIT;
			boolean inPeriod = !provision.hasPeriod()
					|| ((provision.getPeriod().getStart() == null || !provision.getPeriod().getStart().after(now))
							&& (provision.getPeriod().getEnd() == null || provision.getPeriod().getEnd().after(now)));
			boolean namesProxy = provision.getActor().stream()
					.anyMatch(actor -> proxy.equals(actor.getReference().getReferenceElement().toUnqualifiedVersionless().getValue()));
			Set<String> covered = provision.getSecurityLabel().stream().map(label -> label.getCode()).collect(Collectors.toSet());
			boolean coversLabels = covered.isEmpty() || covered.containsAll(labels);
			if (privacy && permit && inPeriod && namesProxy && coversLabels) {
				return true;
			}
		}
		return false;
	}
}
