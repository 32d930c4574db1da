package org.nssifhir.server.security.enrolment;

import ca.uhn.fhir.jpa.api.dao.DaoRegistry;
import ca.uhn.fhir.rest.annotation.IdParam;
import ca.uhn.fhir.rest.annotation.Operation;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.exceptions.ForbiddenOperationException;
import ca.uhn.fhir.rest.server.exceptions.ResourceNotFoundException;
import ca.uhn.fhir.rest.server.exceptions.UnprocessableEntityException;
import ca.uhn.fhir.rest.server.servlet.ServletRequestDetails;
import java.time.Clock;
import java.time.Instant;
import java.util.Date;
import java.util.Optional;
import java.util.function.Consumer;
import org.hl7.fhir.r4.model.BooleanType;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.InstantType;
import org.hl7.fhir.r4.model.IntegerType;
import org.hl7.fhir.r4.model.Parameters;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.RelatedPerson;
import org.hl7.fhir.r4.model.StringType;
import org.hl7.fhir.r4.model.UriType;
import org.nssifhir.server.fhir.FhirOperationProvider;
import org.nssifhir.server.security.RequestIdentity;
import org.nssifhir.server.security.policy.AccessPolicy;
import org.nssifhir.server.security.policy.SecurityEventSink;
import org.nssifhir.server.settings.ServerAddress;
import org.nssifhir.server.support.ErrorCode;

/**
 * Invites a person to sign in as a Patient or a RelatedPerson: {@code POST [base]/Patient/[id]/$nssi-invite}
 * (or {@code RelatedPerson/[id]}) answers a Parameters with the one-time {@code link}, when it {@code expires}
 * and, when the person already has an account, their {@code username} (the link then sets a new password: how a
 * clinician resets a forgotten one). A new invitation replaces any open one. {@code $nssi-revoke-invitation}
 * revokes the open ones ({@code revoked}: how many). The link is in the answer only: it is stored as a hash,
 * never logged, and the answer is not cached. Each invitation and revocation is audited as a security event
 * ({@code urn:nssi-fhir:audit|enrolment}).
 *
 * <p>{@code $nssi-disable-account} (same callers) disables the person's account: sign-in is refused, the tokens it
 * holds are revoked (so no refresh), open invitations are revoked; audited as {@code account-disabled}. A new
 * invitation from the care team is how access is given back (the person then sets a new password).
 */
public class InvitationProvider implements FhirOperationProvider {

	private final DaoRegistry daos;
	private final AccessPolicy policy;
	private final Invitations invitations;
	private final Accounts accounts;
	private final EnrolmentSettings settings;
	private final ServerAddress address;
	private final SecurityEventSink events;
	private final Clock clock;
	private final Consumer<AccountDisabled> disabled;

	public InvitationProvider(
			DaoRegistry daos, AccessPolicy policy, Invitations invitations, Accounts accounts, EnrolmentSettings settings,
			ServerAddress address, SecurityEventSink events, Clock clock, Consumer<AccountDisabled> disabled) {
		this.disabled = disabled;
		this.daos = daos;
		this.policy = policy;
		this.invitations = invitations;
		this.accounts = accounts;
		this.settings = settings;
		this.address = address;
		this.events = events;
		this.clock = clock;
	}

	@Operation(name = EnrolmentOperations.INVITE, type = Patient.class, idempotent = false)
	public Parameters invitePatient(@IdParam IdType id, RequestDetails request) {
		return invite(person("Patient", id, request), request);
	}

	@Operation(name = EnrolmentOperations.INVITE, type = RelatedPerson.class, idempotent = false)
	public Parameters inviteProxy(@IdParam IdType id, RequestDetails request) {
		return invite(person("RelatedPerson", id, request), request);
	}

	@Operation(name = EnrolmentOperations.DISABLE, type = Patient.class, idempotent = false)
	public Parameters disablePatient(@IdParam IdType id, RequestDetails request) {
		return disable(person("Patient", id, request));
	}

	@Operation(name = EnrolmentOperations.DISABLE, type = RelatedPerson.class, idempotent = false)
	public Parameters disableProxy(@IdParam IdType id, RequestDetails request) {
		return disable(person("RelatedPerson", id, request));
	}

	@Operation(name = EnrolmentOperations.REVOKE, type = Patient.class, idempotent = false)
	public Parameters revokePatient(@IdParam IdType id, RequestDetails request) {
		return revoke(person("Patient", id, request));
	}

	@Operation(name = EnrolmentOperations.REVOKE, type = RelatedPerson.class, idempotent = false)
	public Parameters revokeProxy(@IdParam IdType id, RequestDetails request) {
		return revoke(person("RelatedPerson", id, request));
	}

	/** The person to invite, read through the caller's request (a record they may not see is a 404), and the policy's decision. */
	private Person person(String type, IdType id, RequestDetails request) {
		IdType target = new IdType(type, id.getIdPart());
		Object resource = daos.getResourceDao(type).read(target, request);
		String patientId;
		if (resource instanceof RelatedPerson proxy) {
			if ((proxy.hasActive() && !proxy.getActive()) || !"Patient".equals(proxy.getPatient().getReferenceElement().getResourceType())) {
				throw new UnprocessableEntityException(ErrorCode.NOT_INVITABLE.message(
						"This RelatedPerson cannot sign in: it is inactive or names no patient"));
			}
			patientId = proxy.getPatient().getReferenceElement().getIdPart();
		} else {
			patientId = target.getIdPart();
		}
		RequestIdentity who = RequestIdentity.of(request).orElseThrow(() -> new ForbiddenOperationException(
				ErrorCode.POLICY_REFUSED.message("No caller identity")));
		if (who.patientLevelOnly() && !who.patientId().map(patientId::equals).orElse(false)) {
			// a patient-level token outside its patient: answered as a record it cannot see
			throw new ResourceNotFoundException(target);
		}
		policy.enrolmentRefusal(request, who, patientId).ifPresent(refusal -> {
			throw new ForbiddenOperationException(ErrorCode.POLICY_REFUSED.message(refusal.reason()));
		});
		if (request instanceof ServletRequestDetails servlet && servlet.getServletResponse() != null) {
			servlet.getServletResponse().setHeader("Cache-Control", "no-store");
		}
		return new Person(target.toUnqualifiedVersionless().getValue(), who.fhirUser().orElse("client " + who.clientId()));
	}

	private Parameters invite(Person person, RequestDetails request) {
		Instant now = clock.instant();
		Invitations.Created created = invitations.create(person.fhirUser(), person.actor(), now, settings.invitationTtl());
		events.accountEvent(person.actor(), "invitation-created", person.fhirUser());
		Parameters out = new Parameters();
		out.addParameter().setName("link").setValue(new UriType(address.origin() + EnrolmentPages.PATH + "?token=" + created.token()));
		out.addParameter().setName("expires").setValue(new InstantType(Date.from(created.expires())));
		out.addParameter().setName("person").setValue(new StringType(person.fhirUser()));
		accounts.byFhirUser(person.fhirUser()).ifPresent(account -> out.addParameter().setName("username").setValue(new StringType(account.username())));
		return out;
	}

	private Parameters revoke(Person person) {
		int revoked = invitations.revokeOpen(person.fhirUser(), clock.instant());
		events.accountEvent(person.actor(), "invitation-revoked", person.fhirUser());
		Parameters out = new Parameters();
		out.addParameter().setName("revoked").setValue(new IntegerType(revoked));
		return out;
	}

	/**
	 * Disables the account (the answer says whether there is one, and its username), revokes open invitations and,
	 * through {@link AccountDisabled}, every authorization the account holds at the authorization server.
	 */
	private Parameters disable(Person person) {
		Optional<Accounts.Account> account = accounts.byFhirUser(person.fhirUser());
		invitations.revokeOpen(person.fhirUser(), clock.instant());
		Parameters out = new Parameters();
		out.addParameter().setName("disabled").setValue(new BooleanType(account.isPresent()));
		if (account.isPresent()) {
			accounts.disable(person.fhirUser());
			events.accountEvent(person.actor(), "account-disabled", person.fhirUser());
			disabled.accept(new AccountDisabled(account.get().username(), person.fhirUser()));
			out.addParameter().setName("username").setValue(new StringType(account.get().username()));
		}
		return out;
	}

	private record Person(String fhirUser, String actor) {}
}
