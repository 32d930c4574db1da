package org.nssifhir.server.audit;

import ca.uhn.fhir.storage.interceptor.balp.IBalpAuditEventSink;
import org.hl7.fhir.r4.model.AuditEvent;
import org.hl7.fhir.r4.model.Coding;
import org.nssifhir.server.security.consent.BreakTheGlass;
import org.springframework.stereotype.Component;

/**
 * Records AuditEvents in this server's own database, through the durable {@link AuditOutbox}: the record of a write
 * commits with the write (same transaction: both or neither), every record is committed before the response, and
 * the outbox stores it as an AuditEvent resource a moment later. If the record cannot be written,
 * the request fails: no unaudited access. Stored as the system (not through the REST API), so clients can never
 * create, change or delete audit records; they can only read them with an AuditEvent scope.
 */
@Component
public class AuditEventWriter implements IBalpAuditEventSink {

	private final AuditOutbox outbox;

	public AuditEventWriter(AuditOutbox outbox) {
		this.outbox = outbox;
	}

	@Override
	public void recordAuditEvent(AuditEvent event) {
		if (BreakTheGlass.asserted()) {
			// every break-the-glass access is marked so privacy officers can find and review it
			// with the reason the clinician gave (the clinician app asks for one), as the purpose's text
			event.addPurposeOfEvent().setText(BreakTheGlass.reason().orElse(null))
					.addCoding(new Coding(BreakTheGlass.ACT_REASON_SYSTEM, BreakTheGlass.CODE, "break the glass"));
			event.getMeta().addTag(BreakTheGlass.AUDIT_TAG_SYSTEM, BreakTheGlass.AUDIT_TAG_CODE, "break-the-glass access");
		}
		outbox.enqueue(event);
	}
}
