package org.nssifhir.server.audit;

import java.util.Date;
import java.util.List;
import org.hl7.fhir.r4.model.AuditEvent;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Reference;
import org.nssifhir.server.security.launch.PatientPickerAudit;
import org.springframework.stereotype.Component;

/** Records the patients the SMART launch's patient picker showed, as a search-type AuditEvent. */
@Component
class PatientPickerAuditor implements PatientPickerAudit {

	private final AuditEventWriter auditWriter;

	PatientPickerAuditor(AuditEventWriter auditWriter) {
		this.auditWriter = auditWriter;
	}

	@Override
	public void patientsShown(String who, List<Patient> shown) {
		AuditEvent event = new AuditEvent();
		event.getMeta().addTag("urn:nssi-fhir:audit", "patient-picker", null);
		event.setType(new Coding("http://terminology.hl7.org/CodeSystem/audit-event-type", "rest", "Restful Operation"));
		event.addSubtype(new Coding("http://hl7.org/fhir/restful-interaction", "search-type", "search-type"));
		event.setAction(AuditEvent.AuditEventAction.E);
		event.setRecorded(new Date());
		event.setOutcome(AuditEvent.AuditEventOutcome._0);
		event.getSource().setObserver(new Reference().setDisplay("NSSI FHIR Server patient picker"));
		Reference agent = new Reference().setDisplay(who);
		agent.getIdentifier().setSystem(SmartAuditContext.FHIR_USER_SYSTEM).setValue(who);
		event.addAgent().setRequestor(true).setWho(agent);
		for (Patient patient : shown) {
			event.addEntity().setWhat(new Reference("Patient/" + patient.getIdElement().getIdPart()))
					.setType(new Coding("http://terminology.hl7.org/CodeSystem/audit-entity-type", "1", "Person"));
		}
		auditWriter.recordAuditEvent(event);
	}
}
