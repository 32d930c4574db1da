package org.nssifhir.server.fhir;

import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Interceptor;
import ca.uhn.fhir.interceptor.api.Pointcut;
import org.hl7.fhir.instance.model.api.IBaseConformance;
import org.hl7.fhir.r4.model.CapabilityStatement;
import org.hl7.fhir.r4.model.CapabilityStatement.SystemRestfulInteraction;
import org.springframework.stereotype.Component;

/**
 * Corrects what HAPI's generated CapabilityStatement leaves out, so that it tells the truth: the system endpoint
 * accepts {@code batch} as well as {@code transaction} bundles (HAPI serves both through one method but lists
 * only the latter).
 */
@Interceptor
@Component
public class CapabilityStatementInterceptor {

	@Hook(Pointcut.SERVER_CAPABILITY_STATEMENT_GENERATED)
	public void complete(IBaseConformance generated) {
		CapabilityStatement cs = (CapabilityStatement) generated;
		cs.setPublisher("NSSI FHIR Server project");
		for (CapabilityStatement.CapabilityStatementRestComponent rest : cs.getRest()) {
			boolean hasTransaction = rest.getInteraction().stream().anyMatch(i -> i.getCode() == SystemRestfulInteraction.TRANSACTION);
			boolean hasBatch = rest.getInteraction().stream().anyMatch(i -> i.getCode() == SystemRestfulInteraction.BATCH);
			if (hasTransaction && !hasBatch) {
				rest.addInteraction().setCode(SystemRestfulInteraction.BATCH);
			}
		}
	}
}
