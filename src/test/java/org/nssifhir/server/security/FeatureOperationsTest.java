package org.nssifhir.server.security;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.rest.annotation.Operation;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import java.lang.reflect.Method;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.nssifhir.server.fhir.FhirOperationProvider;

/**
 * Every operation a provider of ours offers is declared by a {@link FeatureOperations} bean (else the access policy
 * refuses it, whatever the scopes), and no operation is declared twice.
 */
class FeatureOperationsTest {

	private static final JavaClasses MAIN = new ClassFileImporter()
			.withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
			.importPackages("org.nssifhir.server");

	@Test
	void everyProvidedOperationIsDeclared() throws Exception {
		Set<String> declared = FeatureOperations.names(features());
		assertThat(declared).contains("$everything", "$nssi-summary", "$apply", "$export");

		Set<String> provided = new TreeSet<>();
		for (JavaClass type : MAIN) {
			if (type.isAssignableTo(FhirOperationProvider.class) && !type.isInterface()) {
				for (Method method : type.reflect().getDeclaredMethods()) {
					Operation operation = method.getAnnotation(Operation.class);
					if (operation != null) {
						provided.add(operation.name().startsWith("$") ? operation.name() : "$" + operation.name());
					}
				}
			}
		}
		assertThat(provided).as("the scan finds our providers").contains("$nssi-summary", "$populate", "$extract", "$apply", "$nssi-progress");
		assertThat(declared).as("operations declared by a FeatureOperations bean").containsAll(provided);
	}

	static List<FeatureOperations> features() {
		return DeclaredOperations.all();
	}
}
