package org.nssifhir.server.notification;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.IInterceptorService;
import ca.uhn.fhir.interceptor.api.Pointcut;
import ca.uhn.fhir.jpa.subscription.match.registry.SubscriptionRegistry;
import ca.uhn.fhir.jpa.subscription.model.ResourceModifiedMessage;
import ca.uhn.fhir.rest.client.api.IGenericClient;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Date;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.hl7.fhir.instance.model.api.IIdType;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Flag;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Subscription;
import org.hl7.fhir.r4.model.Task;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.nssifhir.server.assessment.AssessmentFixtures;
import org.nssifhir.server.conformance.NssiCanonicals;
import org.nssifhir.server.support.BaseIT;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

/**
 * Rest-hook Subscriptions end to end: an EHR endpoint (a real HTTP server started here) is told of the
 * suicide-risk Flag and the urgent Task the escalation raises. The endpoint refuses the first deliveries
 * (as if down) and the server retries until it accepts; the payload never appears in the logs.
 */
@ExtendWith(OutputCaptureExtension.class)
class SubscriptionDeliveryIT extends BaseIT {

	private record Delivery(String method, String path, String body) {}

	private HttpServer receiver;
	private final List<Delivery> delivered = new CopyOnWriteArrayList<>();
	private final AtomicInteger refused = new AtomicInteger();
	private volatile int refuseFirst;

	@BeforeEach
	void startReceiver() throws IOException {
		receiver = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
		receiver.createContext("/ehr", exchange -> {
			byte[] body = exchange.getRequestBody().readAllBytes();
			if (refused.get() < refuseFirst) {
				refused.incrementAndGet();
				exchange.sendResponseHeaders(503, -1);
			} else {
				delivered.add(new Delivery(exchange.getRequestMethod(), exchange.getRequestURI().getPath(), new String(body, StandardCharsets.UTF_8)));
				exchange.sendResponseHeaders(200, -1);
			}
			exchange.close();
		});
		receiver.start();
	}

	@AfterEach
	void stopReceiver() {
		receiver.stop(0);
	}

	private IIdType subscribe(String criteria) {
		Subscription subscription = new Subscription();
		subscription.setStatus(Subscription.SubscriptionStatus.REQUESTED);
		subscription.setReason("EHR alert inbox (test)");
		subscription.setCriteria(criteria);
		subscription.getChannel()
				.setType(Subscription.SubscriptionChannelType.RESTHOOK)
				.setEndpoint("http://127.0.0.1:" + receiver.getAddress().getPort() + "/ehr")
				.setPayload("application/fhir+json");
		IIdType id = client().create().resource(subscription).execute().getId().toUnqualifiedVersionless();
		await(Duration.ofSeconds(30), () -> client().read().resource(Subscription.class).withId(id).execute().getStatus()
				== Subscription.SubscriptionStatus.ACTIVE);
		return id;
	}

	private static void await(Duration timeout, BooleanSupplier condition) {
		Instant end = Instant.now().plus(timeout);
		while (!condition.getAsBoolean()) {
			if (Instant.now().isAfter(end)) {
				throw new AssertionError("condition not met within " + timeout);
			}
			try {
				Thread.sleep(200);
			} catch (InterruptedException e) {
				Thread.currentThread().interrupt();
				throw new AssertionError(e);
			}
		}
	}

	@Test
	void suicideRiskFlagAndUrgentTask_areDelivered_afterTheReceiverRecoversFromFailures(CapturedOutput output) {
		IIdType flagSubscription = subscribe("Flag?nssi-code=" + NssiCanonicals.CONCEPTS_SYSTEM + "|suicide-risk");
		IIdType taskSubscription = subscribe("Task?priority=asap"); // a suicide-risk alert's Task (FHIR: urgent < asap)
		refuseFirst = 2;

		IGenericClient client = client();
		IIdType patient = AssessmentFixtures.patient(client);
		client.create().resource(AssessmentFixtures.episode(patient, Date.from(Instant.now().minus(1, ChronoUnit.DAYS)), "intent-present", null)).execute();
		Flag flag = (Flag) client.search().forResource(Flag.class).where(Flag.PATIENT.hasId(patient)).returnBundle(Bundle.class).execute().getEntryFirstRep().getResource();
		Task task = (Task) client.search().forResource(Task.class).where(Task.PATIENT.hasId(patient)).returnBundle(Bundle.class).execute().getEntryFirstRep().getResource();
		String flagPath = "/ehr/Flag/" + flag.getIdElement().getIdPart();
		String taskPath = "/ehr/Task/" + task.getIdElement().getIdPart();

		await(Duration.ofSeconds(45), () -> delivered.stream().anyMatch(d -> d.path().equals(flagPath))
				&& delivered.stream().anyMatch(d -> d.path().equals(taskPath)));
		assertThat(refused.get()).as("the receiver was down for the first deliveries").isEqualTo(2);
		Delivery flagDelivery = delivered.stream().filter(d -> d.path().equals(flagPath)).findFirst().orElseThrow();
		assertThat(flagDelivery.method()).isEqualTo("PUT");
		Flag received = fhirContext.newJsonParser().parseResource(Flag.class, flagDelivery.body());
		assertThat(received.getCode().getCodingFirstRep().getCode()).isEqualTo("suicide-risk");
		assertThat(received.getSubject().getReference()).isEqualTo(patient.getValue());

		// the payload (the alert and its event key) never reaches the logs
		String eventKey = flag.getIdentifierFirstRep().getValue();
		assertThat(output.getAll()).doesNotContain(eventKey).doesNotContain("\"resourceType\":\"Flag\"").doesNotContain(task.getDescription());

		// every delivery is audited: the resource sent, and the endpoint's host (never the payload)
		awaitAuditTrail();
		Bundle deliveries = client.search().byUrl("AuditEvent?_tag=urn:nssi-fhir:audit|subscription-delivery&entity=Flag/"
				+ flag.getIdElement().getIdPart()).returnBundle(Bundle.class).execute();
		assertThat(deliveries.getEntry()).isNotEmpty();
		org.hl7.fhir.r4.model.AuditEvent delivery = (org.hl7.fhir.r4.model.AuditEvent) deliveries.getEntryFirstRep().getResource();
		assertThat(delivery.getOutcomeDesc()).contains("127.0.0.1").doesNotContain(eventKey);

		client.delete().resourceById(flagSubscription).execute();
		client.delete().resourceById(taskSubscription).execute();
	}

	@Test
	void aCleanEpisode_notifiesNobody() throws InterruptedException {
		IIdType subscription = subscribe("Flag?nssi-code=" + NssiCanonicals.CONCEPTS_SYSTEM + "|suicide-risk");
		IGenericClient client = client();
		IIdType patient = AssessmentFixtures.patient(client);
		client.create().resource(AssessmentFixtures.episode(patient, Date.from(Instant.now().minus(1, ChronoUnit.DAYS)), "intent-none", null)).execute();
		Thread.sleep(3000);
		assertThat(delivered).noneMatch(d -> d.body().contains(patient.getValue()));
		client.delete().resourceById(subscription).execute();
	}

	@Autowired
	private IInterceptorService interceptors;

	@Autowired
	private SubscriptionRegistry subscriptionRegistry;

	/** Records the resource type of every change that reaches HAPI's subscription matcher. */
	static final class MatcherProbe {
		final List<String> types = new CopyOnWriteArrayList<>();
		final List<String> ids = new CopyOnWriteArrayList<>();

		@Hook(Pointcut.SUBSCRIPTION_BEFORE_PERSISTED_RESOURCE_CHECKED)
		public void checked(ResourceModifiedMessage message) {
			String[] id = String.valueOf(message.getPayloadId()).split("/");
			types.add(id[0]);
			if (id.length > 1) {
				ids.add(id[1]);
			}
		}
	}

	/**
	 * The audit drain keeps its AuditEvents out of the subscription pipeline while no Subscription could match them
	 * (AuditSubscriptionFilter), and an AuditEvent Subscription is still matched and delivered.
	 */
	@Test
	void auditRecordsSkipTheSubscriptionPipeline_unlessASubscriptionCouldMatchThem() throws InterruptedException {
		// no subscription left by another test that could match AuditEvents (a topic or "*" one included)
		await(Duration.ofSeconds(30), () -> subscriptionRegistry.getAll().stream().noneMatch(s -> s.getCriteria() == null
				|| s.getCriteria().getCriteria() == null || s.getCriteria().getCriteria().startsWith("AuditEvent")));
		MatcherProbe probe = new MatcherProbe();
		interceptors.registerInterceptor(probe);
		try {
			awaitAuditTrail();
			IGenericClient client = client();
			IIdType patient = AssessmentFixtures.patient(client);
			client.read().resource(Patient.class).withId(patient).execute();
			awaitAuditTrail();
			// HAPI matches persisted changes in order, some seconds later: once a change made after the drain has
			// reached the matcher, the drained AuditEvents' changes would have too
			IIdType marker = AssessmentFixtures.patient(client);
			await(Duration.ofSeconds(30), () -> probe.ids.contains(marker.getIdPart()));
			Thread.sleep(1000);
			assertThat(probe.types).contains("Patient");
			assertThat(probe.types).as("audit records with no subscription that could match them").doesNotContain("AuditEvent");

			IIdType subscription = subscribe("AuditEvent?action=R");
			await(Duration.ofSeconds(30), () -> subscriptionRegistry.get(subscription.getIdPart()) != null);
			try {
				client.read().resource(Patient.class).withId(patient).execute();
				awaitAuditTrail();
				await(Duration.ofSeconds(30), () -> delivered.stream().anyMatch(d -> d.path().startsWith("/ehr/AuditEvent/")));
				assertThat(probe.types).contains("AuditEvent");
			} finally {
				client.delete().resourceById(subscription).execute();
			}
		} finally {
			interceptors.unregisterInterceptor(probe);
		}
	}
}
