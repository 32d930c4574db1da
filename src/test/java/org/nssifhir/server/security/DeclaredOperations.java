package org.nssifhir.server.security;

import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import java.lang.reflect.Constructor;
import java.util.ArrayList;
import java.util.List;

/** One of each {@link FeatureOperations} implementation in src/main, for tests of what reads the declarations. */
public final class DeclaredOperations {

	private static List<FeatureOperations> all;

	private DeclaredOperations() {}

	/** They are stateless and have no-argument constructors, as beans they are made the same way. */
	public static synchronized List<FeatureOperations> all() {
		if (all == null) {
			List<FeatureOperations> out = new ArrayList<>();
			for (JavaClass type : new ClassFileImporter()
					.withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
					.importPackages("org.nssifhir.server")) {
				if (type.isAssignableTo(FeatureOperations.class) && !type.isInterface()) {
					try {
						Constructor<?> constructor = type.reflect().getDeclaredConstructor();
						constructor.setAccessible(true);
						out.add((FeatureOperations) constructor.newInstance());
					} catch (ReflectiveOperationException e) {
						throw new IllegalStateException(type.getName() + " needs a no-argument constructor", e);
					}
				}
			}
			all = List.copyOf(out);
		}
		return all;
	}
}
