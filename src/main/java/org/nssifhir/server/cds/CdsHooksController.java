package org.nssifhir.server.cds;

import ca.uhn.fhir.parser.DataFormatException;
import com.fasterxml.jackson.databind.JsonNode;
import jakarta.servlet.http.HttpServletRequest;
import java.util.ArrayList;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.hl7.fhir.r4.model.AuditEvent;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Reference;
import org.nssifhir.server.assessment.EpisodeIndex;
import org.nssifhir.server.audit.AuditEventWriter;
import org.nssifhir.server.audit.RefusedAccessAuditor;
import org.nssifhir.server.settings.NssiProperties;
import org.nssifhir.server.support.ErrorCode;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * CDS Hooks 2.0 endpoints: discovery at {@code GET /cds-services} (public: it describes services, holds no
 * data) and the {@code patient-view} service at {@code POST /cds-services/nssi-patient-view}, which needs the
 * CDS Client's signed JWT. Every call to the service is audited (who, which patient, how many cards); refusals
 * too. Never logs the request body (it carries PHI).
 */
@RestController
@RequestMapping(path = CdsHooksController.PATH, produces = MediaType.APPLICATION_JSON_VALUE)
public class CdsHooksController {

	public static final String PATH = "/cds-services";
	static final String CDS_CLIENT_SYSTEM = "urn:nssi-fhir:cds-client";

	private final PatientViewService service;
	private final CdsJwtVerifier verifier;
	private final AuditEventWriter audit;
	private final RefusedAccessAuditor refused;
	private final EpisodeIndex patients;
	private final NssiProperties properties;

	public CdsHooksController(
			PatientViewService service, CdsJwtVerifier verifier, AuditEventWriter audit, RefusedAccessAuditor refused,
			EpisodeIndex patients, NssiProperties properties) {
		this.service = service;
		this.verifier = verifier;
		this.audit = audit;
		this.refused = refused;
		this.patients = patients;
		this.properties = properties;
	}

	@GetMapping
	public Map<String, Object> discovery() {
		Map<String, Object> patientView = new LinkedHashMap<>();
		patientView.put("hook", "patient-view");
		patientView.put("id", PatientViewService.ID);
		patientView.put("title", "NSSI safety and care check");
		patientView.put("description", "Open self-harm safety alerts, recent episodes that needed medical care, rising "
				+ "episode frequency, and NSSI diagnoses without an active care plan, with a link to the NSSI clinician app.");
		patientView.put("prefetch", PatientViewService.prefetchTemplates());
		patientView.put("usageRequirements", "Send a JWT signed by a key of an allow-listed issuer (RS384 or ES384).");
		return Map.of("services", List.of(patientView));
	}

	@PostMapping(path = "/{id}", consumes = MediaType.APPLICATION_JSON_VALUE)
	public ResponseEntity<Map<String, Object>> call(
			@PathVariable String id,
			@RequestHeader(name = HttpHeaders.AUTHORIZATION, required = false) String authorization,
			@RequestBody(required = false) JsonNode body,
			HttpServletRequest request) {
		if (!PatientViewService.ID.equals(id)) {
			return error(HttpStatus.NOT_FOUND, ErrorCode.CDS_HOOKS_REQUEST_INVALID.message("No such CDS Service"));
		}
		String serviceUrl = base(request) + PATH + "/" + PatientViewService.ID;
		String issuer;
		try {
			issuer = verifier.verify(authorization, serviceUrl);
		} catch (CdsJwtVerifier.Refused e) {
			refused.authenticationFailed(PATH + "/" + id);
			return error(HttpStatus.UNAUTHORIZED, ErrorCode.CDS_HOOKS_UNAUTHENTICATED.message(e.getMessage()));
		}
		String patientId = body == null ? "" : body.path("context").path("patientId").asText("");
		if (body == null || !"patient-view".equals(body.path("hook").asText()) || !patientId.matches("[A-Za-z0-9\\-.]{1,64}")) {
			return error(HttpStatus.BAD_REQUEST, ErrorCode.CDS_HOOKS_REQUEST_INVALID.message(
					"Expected a patient-view request with context.patientId"));
		}
		List<PatientViewCards.Card> cards;
		try {
			cards = service.cards(patientId, body.get("prefetch"));
		} catch (IllegalArgumentException | DataFormatException e) {
			return error(HttpStatus.BAD_REQUEST, ErrorCode.CDS_HOOKS_REQUEST_INVALID.message("A prefetch value is not a FHIR Bundle"));
		}
		audit(issuer, patientId, cards.size());
		String appUrl = base(request) + "/app/";
		List<Map<String, Object>> json = new ArrayList<>();
		for (PatientViewCards.Card card : cards) {
			Map<String, Object> c = new LinkedHashMap<>();
			c.put("uuid", UUID.randomUUID().toString());
			c.put("summary", card.summary());
			c.put("detail", card.detail());
			c.put("indicator", card.indicator().name());
			c.put("source", Map.of("label", "NSSI FHIR Server"));
			c.put("links", List.of(Map.of("label", "Open the NSSI clinician app", "url", appUrl, "type", "smart")));
			// not part of CDS Hooks; a stable name of the rule that made the card, for EHR logs and tests
			c.put("extension", Map.of("nssi-card", card.id()));
			json.add(c);
		}
		return ResponseEntity.ok(Map.of("cards", json));
	}

	/** The server's public base URL: the configured FHIR address without /fhir, or the URL this request came to. */
	private String base(HttpServletRequest request) {
		String configured = properties.fhir().serverAddress();
		if (configured != null && !configured.isBlank()) {
			return configured.replaceAll("/+$", "").replaceAll("/fhir$", "");
		}
		String url = request.getRequestURL().toString();
		return url.substring(0, url.indexOf(PATH));
	}

	private void audit(String issuer, String patientId, int cards) {
		AuditEvent event = new AuditEvent();
		event.getMeta().addTag("urn:nssi-fhir:audit", "cds-hooks", null);
		event.setType(new Coding("http://terminology.hl7.org/CodeSystem/audit-event-type", "rest", "Restful Operation"));
		event.addSubtype(new Coding("http://hl7.org/fhir/restful-interaction", "operation", "cds-hooks patient-view"));
		event.setAction(AuditEvent.AuditEventAction.E);
		event.setRecorded(new Date());
		event.setOutcome(AuditEvent.AuditEventOutcome._0);
		event.setOutcomeDesc(cards + " card(s)");
		event.getSource().setObserver(new Reference().setDisplay("NSSI FHIR Server"));
		Reference who = new Reference().setDisplay(issuer);
		who.getIdentifier().setSystem(CDS_CLIENT_SYSTEM).setValue(issuer);
		event.addAgent().setRequestor(true).setWho(who);
		Reference what = new Reference();
		if (patients.patientPid(patientId).isPresent()) {
			what.setReference("Patient/" + patientId);
		} else {
			what.getIdentifier().setSystem("urn:nssi-fhir:cds-patient-id").setValue(patientId);
		}
		event.addEntity().setWhat(what).setRole(new Coding("http://terminology.hl7.org/CodeSystem/object-role", "1", "Patient"));
		audit.recordAuditEvent(event);
	}

	private static ResponseEntity<Map<String, Object>> error(HttpStatus status, String message) {
		return ResponseEntity.status(status).body(Map.of("error", message));
	}
}
