package org.nssifhir.server.labeling;

import ca.uhn.fhir.jpa.api.dao.DaoRegistry;
import ca.uhn.fhir.jpa.searchparam.SearchParameterMap;
import ca.uhn.fhir.rest.api.server.SystemRequestDetails;
import ca.uhn.fhir.rest.param.UriParam;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Questionnaire;
import org.hl7.fhir.r4.model.QuestionnaireResponse;
import org.nssifhir.server.support.StandardCodes;

/**
 * The codes the items of a QuestionnaireResponse stand for: the {@code item.code} of the Questionnaire it answers
 * (looked up on this server by its canonical URL, any version), and a LOINC code used as the linkId itself
 * ({@code 44260-8} or {@code /44260-8}, as LHC-Forms and US Core's PHQ-9 do). A response to a Questionnaire this
 * server does not hold is read by its linkIds only.
 */
public class QuestionnaireItemCodes {

	private final DaoRegistry daoRegistry;

	public QuestionnaireItemCodes(DaoRegistry daoRegistry) {
		this.daoRegistry = daoRegistry;
	}

	/** linkId → codes of that item, for every item of the response. */
	public Map<String, List<Coding>> codesByLinkId(QuestionnaireResponse response) {
		Map<String, List<Coding>> codes = new HashMap<>();
		questionnaire(response.getQuestionnaire()).ifPresent(q -> collect(q.getItem(), codes));
		linkIds(response.getItem(), codes);
		return codes;
	}

	private Optional<Questionnaire> questionnaire(String canonical) {
		if (canonical == null || canonical.isBlank()) {
			return Optional.empty();
		}
		int bar = canonical.indexOf('|');
		String url = bar < 0 ? canonical : canonical.substring(0, bar);
		try {
			SearchParameterMap map = SearchParameterMap.newSynchronous().add(Questionnaire.SP_URL, new UriParam(url));
			map.setLoadSynchronousUpTo(1);
			List<IBaseResource> found = daoRegistry.getResourceDao("Questionnaire").search(map, new SystemRequestDetails()).getResources(0, 1);
			return found.isEmpty() ? Optional.empty() : Optional.of((Questionnaire) found.get(0));
		} catch (RuntimeException e) {
			return Optional.empty(); // an unparseable canonical: read by linkIds only
		}
	}

	private static void collect(List<Questionnaire.QuestionnaireItemComponent> items, Map<String, List<Coding>> codes) {
		for (Questionnaire.QuestionnaireItemComponent item : items) {
			if (item.hasLinkId() && item.hasCode()) {
				codes.computeIfAbsent(item.getLinkId(), k -> new ArrayList<>()).addAll(item.getCode());
			}
			collect(item.getItem(), codes);
		}
	}

	private static void linkIds(List<QuestionnaireResponse.QuestionnaireResponseItemComponent> items, Map<String, List<Coding>> codes) {
		for (QuestionnaireResponse.QuestionnaireResponseItemComponent item : items) {
			String linkId = item.getLinkId();
			if (linkId != null) {
				String tail = linkId.substring(linkId.lastIndexOf('/') + 1).trim();
				if (tail.matches("\\d{1,7}-\\d")) {
					codes.computeIfAbsent(linkId, k -> new ArrayList<>()).add(new Coding(StandardCodes.LOINC, tail, null));
				}
			}
			linkIds(item.getItem(), codes);
			item.getAnswer().forEach(a -> linkIds(a.getItem(), codes));
		}
	}
}
