package org.nssifhir.server.escalation;

import ca.uhn.fhir.jpa.api.dao.DaoRegistry;
import ca.uhn.fhir.jpa.dao.tx.IHapiTransactionService;
import ca.uhn.fhir.jpa.searchparam.SearchParameterMap;
import ca.uhn.fhir.rest.api.server.SystemRequestDetails;
import ca.uhn.fhir.rest.param.TokenOrListParam;
import ca.uhn.fhir.rest.param.TokenParam;
import ca.uhn.fhir.rest.server.exceptions.BaseServerResponseException;
import java.util.List;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.Condition;
import org.hl7.fhir.r4.model.IdType;
import org.nssifhir.server.support.StandardCodes;
import org.nssifhir.server.support.WholeHistory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.ApplicationArguments;
import org.springframework.boot.ApplicationRunner;
import org.springframework.dao.DataAccessException;

/**
 * Package 0.8.0 (informaticist review s8, H3): a Condition coded only with an intent-neutral SNOMED CT self-harm
 * concept is self-harm of unknown intent and raises the suicide-risk alert of an unrecorded intent. Such Conditions
 * stored before then were NSSI diagnoses and raised nothing; at startup each one that is still active gets the alert
 * a write of it would raise now ({@link EscalationService#escalate}, the same rule). Alerts are keyed by their event,
 * so a Condition already alerted (or alerted and closed) gets no second one: running it at every start is harmless.
 */
public class UnknownIntentConditionMigration implements ApplicationRunner {

	private static final Logger log = LoggerFactory.getLogger(UnknownIntentConditionMigration.class);

	/** The intent-neutral SNOMED CT self-harm concepts ({@link StandardCodes#isIntentNeutralSelfHarm}). */
	static final List<String> CODES = List.of("248062006", "276853009", "418420002");

	private final DaoRegistry daoRegistry;
	private final EscalationService escalation;
	private final IHapiTransactionService transactions;

	public UnknownIntentConditionMigration(DaoRegistry daoRegistry, EscalationService escalation, IHapiTransactionService transactions) {
		this.daoRegistry = daoRegistry;
		this.escalation = escalation;
		this.transactions = transactions;
	}

	@Override
	public void run(ApplicationArguments args) {
		try {
			int alerted = migrate();
			if (alerted > 0) {
				log.info("Conditions of self-harm of unknown intent given their alert (package 0.8.0): {}", alerted);
			}
		} catch (RuntimeException e) {
			// by type only; the next start tries again
			log.warn("Unknown-intent Condition migration failed: {}", e.getClass().getSimpleName());
		}
	}

	/** Raises the alert of every stored Condition the unknown-intent rule matches; returns how many raised one. */
	public int migrate() {
		TokenOrListParam codes = new TokenOrListParam();
		for (String system : StandardCodes.forms(StandardCodes.SNOMED)) {
			CODES.forEach(code -> codes.add(new TokenParam(system, code)));
		}
		SearchParameterMap map = WholeHistory.search().add(Condition.SP_CODE, codes);
		int alerted = 0;
		for (IBaseResource found : WholeHistory.all(daoRegistry.getResourceDao("Condition").search(map, new SystemRequestDetails()))) {
			IdType id = (IdType) found.getIdElement().toUnqualifiedVersionless();
			try {
				// the signals decide (not inactive, not refuted, no R45.88/Z91.52 or suicidality code beside it); the
				// Flag and its Task are stored together
				boolean raised = transactions.withSystemRequest().execute(() -> {
					Condition condition = (Condition) daoRegistry.getResourceDao("Condition").read(id, new SystemRequestDetails());
					return !escalation.escalate(condition).isEmpty();
				});
				if (raised) {
					alerted++;
				}
			} catch (BaseServerResponseException | DataAccessException e) {
				log.warn("Condition/{} not checked for its alert: {}", id.getIdPart(), e.getClass().getSimpleName());
			}
		}
		return alerted;
	}
}
