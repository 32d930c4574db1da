package org.nssifhir.server.audit;

import ca.uhn.fhir.jpa.api.dao.DaoRegistry;
import ca.uhn.fhir.rest.api.server.SystemRequestDetails;
import ca.uhn.fhir.storage.interceptor.balp.IBalpAuditEventSink;
import org.hl7.fhir.r4.model.AuditEvent;
import org.hl7.fhir.r4.model.Coding;
import org.nssifhir.server.security.consent.BreakTheGlass;
import org.springframework.stereotype.Component;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.TransactionDefinition;
import org.springframework.transaction.support.TransactionSynchronizationManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Stores AuditEvents in this server's own database. The record of a write joins the write's transaction, so the
 * data and its audit record commit together or not at all (and the record may point at the resource being
 * created). The record of a read gets a transaction of its own. If the audit record cannot be stored, the request
 * fails: no unaudited access. Stored as the system (not through the REST API), so clients can never create, change or delete
 * audit records; they can only read them with an AuditEvent scope.
 */
@Component
public class AuditEventWriter implements IBalpAuditEventSink {

	private final DaoRegistry daoRegistry;
	private final TransactionTemplate newTransaction;
	private final TransactionTemplate joinTransaction;

	public AuditEventWriter(DaoRegistry daoRegistry, PlatformTransactionManager transactionManager) {
		this.daoRegistry = daoRegistry;
		this.newTransaction = new TransactionTemplate(transactionManager);
		this.newTransaction.setPropagationBehavior(TransactionDefinition.PROPAGATION_REQUIRES_NEW);
		this.joinTransaction = new TransactionTemplate(transactionManager);
		this.joinTransaction.setPropagationBehavior(TransactionDefinition.PROPAGATION_REQUIRED);
	}

	@Override
	public void recordAuditEvent(AuditEvent event) {
		if (BreakTheGlass.asserted()) {
			// every break-the-glass access is marked so privacy officers can find and review it
			event.addPurposeOfEvent().addCoding(new Coding(BreakTheGlass.ACT_REASON_SYSTEM, BreakTheGlass.CODE, "break the glass"));
			event.getMeta().addTag(BreakTheGlass.AUDIT_TAG_SYSTEM, BreakTheGlass.AUDIT_TAG_CODE, "break-the-glass access");
		}
		boolean insideWrite = TransactionSynchronizationManager.isActualTransactionActive()
				&& !TransactionSynchronizationManager.isCurrentTransactionReadOnly();
		(insideWrite ? joinTransaction : newTransaction)
				.executeWithoutResult(status -> daoRegistry.getResourceDao(AuditEvent.class).create(event, new SystemRequestDetails()));
	}
}
