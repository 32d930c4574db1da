package org.nssifhir.server.security;

import ca.uhn.fhir.rest.api.RestOperationTypeEnum;
import ca.uhn.fhir.rest.server.interceptor.auth.RuleBuilder;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The extension point security offers to features: a feature package that offers named FHIR operations declares
 * one bean of this type beside its providers, saying which operations it offers, how the access policy protects
 * each, and which HAPI authorization rules a granted SMART scope opens for them. Security keeps no list of
 * feature operations: {@link SmartAuthorizationInterceptor} asks every bean for its rules and
 * {@link org.nssifhir.server.security.policy.AccessPolicyInterceptor} refuses every operation no bean declares.
 * HAPI's own operations are declared in {@link BuiltInOperations}.
 *
 * <p>Adding an operation: the provider (implementing {@link org.nssifhir.server.fhir.FhirOperationProvider}) and
 * one entry here, both in the feature's package. The entry says everything the rest of the server needs to know about
 * the operation: its access protection, the rules a scope opens, and what input it accepts ({@link Input}, checked
 * by {@code hardening.StrictInputInterceptor} before HAPI binds the parameters).
 */
public interface FeatureOperations {

	/** The named operations ({@code $name}) this feature offers, each with what protects it. */
	List<OperationAccess> operations();

	/**
	 * Adds the rules one granted scope opens for this feature's operations. Called once per scope that grants
	 * anything (a patient scope only with a patient in context), after the scope's own read rules. Rules are
	 * HAPI rules: they let a request reach the operation; what it then reads or writes is checked as usual.
	 */
	default void addRules(ScopeGrant grant, RuleBuilder rules) {}

	/**
	 * Whether this feature's own guard, not the scope letter check, decides a plain REST interaction (e.g. reading
	 * a Binary that may be a bulk export file). Rarely anything but {@code false}.
	 */
	default boolean decidesInteraction(RestOperationTypeEnum op, String resourceType, SmartAccess access) {
		return false;
	}

	/** The names all features declare; an operation declared twice is a wiring mistake and fails at startup. */
	static Set<String> names(List<? extends FeatureOperations> features) {
		Set<String> names = new LinkedHashSet<>();
		for (FeatureOperations feature : features) {
			for (OperationAccess operation : feature.operations()) {
				if (!names.add(operation.name())) {
					throw new IllegalStateException("The operation " + operation.name() + " is declared twice");
				}
			}
		}
		return Set.copyOf(names);
	}

	/** One named operation, how the access policy protects it, and what input it accepts. */
	record OperationAccess(String name, Protection protection, Input input) {

		public OperationAccess {
			if (!name.startsWith("$")) {
				throw new IllegalArgumentException("An operation name starts with $: " + name);
			}
		}

		/** An operation that accepts whatever HAPI binds ({@link Input#ANY}). */
		public OperationAccess(String name, Protection protection) {
			this(name, protection, Input.ANY);
		}
	}

	/**
	 * What an operation accepts, refused with a 400 before HAPI binds it when not met. HAPI binds the first value of a
	 * repeated parameter and ignores the others, and binds a bare resource body as if it were the operation's input;
	 * an operation that means one value each, or a Parameters body, says so here.
	 */
	enum Input {
		/** whatever HAPI binds */
		ANY,
		/** each parameter at most once, in the URL or in a Parameters body */
		SINGLE_VALUED,
		/** a Parameters resource as the body (never a bare resource), each parameter at most once */
		PARAMETERS_SINGLE_VALUED;

		public boolean singleValued() {
			return this != ANY;
		}

		public boolean parametersOnly() {
			return this == PARAMETERS_SINGLE_VALUED;
		}
	}

	/** What protects an operation once its rule lets a request reach it. */
	enum Protection {
		/** computed from a patient's restricted record: the provider checks {@code AccessPolicy.mayHandleRestricted} */
		COMPUTED_BY_PROVIDER,
		/** answers with stored resources: each is checked on the way out (an instance's target must be readable) */
		ANSWER_CHECKED,
		/** writes through the storage hooks: each stored resource is checked like a create */
		WRITES_CHECKED,
		/** the feature's own guard interceptors decide (bulk export) */
		FEATURE_GUARD,
		/** definitional content only (terminology) */
		DEFINITIONAL,
		/** the labels of one resource: the policy's META / META_CHANGE handling */
		LABELS
	}
}
