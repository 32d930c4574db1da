package org.nssifhir.server.security;

import java.util.Arrays;
import org.hl7.fhir.r4.model.IdType;

/**
 * One granted SMART scope of the request's token, as {@link FeatureOperations#addRules} sees it.
 *
 * @param access the whole token (its other scopes, its patient in context)
 * @param scope the scope being turned into rules
 * @param compartment the patient compartment a patient scope is confined to; {@code null} for user and system scopes
 */
public record ScopeGrant(SmartAccess access, SmartScope scope, IdType compartment) {

	/** Whether this scope reads (the {@code r} letter) resources of the type. */
	public boolean reads(String type) {
		return scope.appliesTo(type) && scope.allows(SmartScope.Permission.READ);
	}

	/** Whether this scope creates resources of the type. */
	public boolean creates(String type) {
		return scope.appliesTo(type) && scope.allows(SmartScope.Permission.CREATE);
	}

	/** Whether this scope reads or searches anything. */
	public boolean readsOrSearches() {
		return scope.allows(SmartScope.Permission.READ) || scope.allows(SmartScope.Permission.SEARCH);
	}

	/** Whether this is a system-level scope (backend services). */
	public boolean system() {
		return scope.context() == SmartScope.Context.SYSTEM;
	}

	/**
	 * Whether the token may read every one of these types, unfiltered, in some context. (An app launched for a patient
	 * typically reads the patient's data with patient/ scopes and writes plans with user/ scopes; the operations
	 * still check the treating relationship or the patient's own record.)
	 */
	public boolean tokenReadsAll(String... types) {
		return Arrays.stream(types).allMatch(type -> access.scopes().stream()
				.filter(s -> s.context() != SmartScope.Context.PATIENT || access.patientId().isPresent())
				.anyMatch(s -> s.appliesTo(type) && s.allows(SmartScope.Permission.READ) && s.query().isEmpty()));
	}
}
