package org.nssifhir.server.config;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Interceptor;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.nssifhir.server.support.InMemoryFhirServer;

/**
 * {@link RequestPipeline#STAGES} lists every HAPI interceptor of ours, once, and nothing that is not one; every
 * REST-server interceptor has a test in the in-memory tier.
 */
class RequestPipelineTest {

	/** HAPI's interceptors that {@link RequestPipeline} registers (not our classes). */
	private static final Set<String> HAPI_INTERCEPTORS =
			Set.of("OpenApiInterceptor", "ConsentInterceptor", "BalpAuditCaptureInterceptor", "CorsInterceptor");

	@Test
	void everyInterceptorOfOursIsInThePipeline() {
		Set<String> ours = new TreeSet<>();
		for (JavaClass type : new ClassFileImporter()
				.withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
				.importPackages("org.nssifhir.server")) {
			boolean hooks = type.isAnnotatedWith(Interceptor.class)
					|| type.getMethods().stream().anyMatch(m -> m.isAnnotatedWith(Hook.class))
					|| (type.getSimpleName().endsWith("Interceptor") && !type.isInterface());
			if (hooks && !type.getPackageName().startsWith("org.nssifhir.server.bench")) {
				ours.add(type.getSimpleName());
			}
		}
		assertThat(ours).as("the scan finds our interceptors").contains("AccessPolicyInterceptor", "NssiWriteInterceptor");

		Set<String> listed = RequestPipeline.STAGES.stream().map(RequestPipeline.Stage::interceptor).collect(Collectors.toCollection(TreeSet::new));
		assertThat(RequestPipeline.STAGES).as("each interceptor listed once").hasSize(listed.size());
		assertThat(listed).as("interceptors in RequestPipeline.STAGES").containsAll(ours);
		Set<String> extra = new TreeSet<>(listed);
		extra.removeAll(ours);
		assertThat(extra).as("listed, but not an interceptor of ours or HAPI's").isSubsetOf(HAPI_INTERCEPTORS);
	}

	/**
	 * The convention: a REST-server interceptor {@code X} (HAPI's too: what is tested is our configuration of it) has
	 * a test class {@code XTest} that runs requests through {@link InMemoryFhirServer}. Its rules are then checked
	 * over HAPI's request handling in milliseconds, not only through the whole application on PostgreSQL.
	 */
	@Test
	void everyRestServerInterceptorHasAnInMemoryTierTest() {
		Set<String> tested = new TreeSet<>();
		for (JavaClass test : new ClassFileImporter()
				.withImportOption(ImportOption.Predefined.ONLY_INCLUDE_TESTS)
				.importPackages("org.nssifhir.server")) {
			boolean inMemory = test.getDirectDependenciesFromSelf().stream()
					.anyMatch(d -> d.getTargetClass().isEquivalentTo(InMemoryFhirServer.class));
			if (inMemory && test.getSimpleName().endsWith("Test")) {
				tested.add(test.getSimpleName().substring(0, test.getSimpleName().length() - "Test".length()));
			}
		}
		List<String> untested = RequestPipeline.STAGES.stream()
				.filter(stage -> stage.where() == RequestPipeline.Where.REST_SERVER)
				.map(RequestPipeline.Stage::interceptor)
				.filter(interceptor -> !tested.contains(interceptor))
				.toList();
		assertThat(untested).as("REST-server interceptors without a <Interceptor>Test on InMemoryFhirServer").isEmpty();
	}
}
