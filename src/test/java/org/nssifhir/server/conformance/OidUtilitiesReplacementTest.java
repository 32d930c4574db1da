package org.nssifhir.server.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.reflect.Constructor;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.net.JarURLConnection;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.hl7.fhir.utilities.OIDUtilities;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Our {@link OIDUtilities} replaces the core library's class of the same name (it reads the OID registry once per
 * JVM instead of once per validated resource). This compares it with the library's own class, loaded from the
 * library's jar in a class loader of its own: the same public members, and the same answers for every OID in the
 * registry and for malformed input.
 */
class OidUtilitiesReplacementTest {

	private static URLClassLoader library;
	private static Class<?> original;
	private static List<String> registryOids;

	@BeforeAll
	static void loadTheLibrarysClass() throws Exception {
		URL registry = OIDUtilities.class.getClassLoader().getResource("oidregistry.csv");
		assertThat(registry).as("the library's jar is on the class path").isNotNull();
		URL jar = ((JarURLConnection) registry.openConnection()).getJarFileURL();
		library = new URLClassLoader(new URL[] {jar}, ClassLoader.getPlatformClassLoader());
		original = library.loadClass(OIDUtilities.class.getName());
		assertThat(original.getProtectionDomain().getCodeSource().getLocation()).isEqualTo(jar);
		assertThat(OIDUtilities.class.getProtectionDomain().getCodeSource().getLocation())
				.as("ours is the one the application loads").isNotEqualTo(jar);
		registryOids = new ArrayList<>();
		try (BufferedReader reader = new BufferedReader(new InputStreamReader(registry.openStream(), StandardCharsets.UTF_8))) {
			reader.lines().skip(1).map(l -> l.split(",")[0].trim()).forEach(registryOids::add);
		}
		assertThat(registryOids).hasSizeGreaterThan(20_000);
	}

	@AfterAll
	static void close() throws Exception {
		library.close();
	}

	@Test
	void offersEveryPublicMemberOfTheLibrarysClass() throws Exception {
		assertThat(signatures(OIDUtilities.class)).containsAll(signatures(original));
		Class<?> originalInfo = library.loadClass(OIDUtilities.OIDInfo.class.getName());
		assertThat(signatures(OIDUtilities.OIDInfo.class)).containsAll(signatures(originalInfo));
	}

	@Test
	void answersAsTheLibraryDoes() throws Exception {
		Object theirs = original.getConstructor().newInstance();
		OIDUtilities ours = new OIDUtilities();
		Method known = original.getMethod("isKnownOID", String.class);
		List<String> inputs = new ArrayList<>(registryOids);
		inputs.addAll(List.of("2.16.840.1.113883.6.96", "2.16.840.1.113883.6.1", "2.16.840.1.113883.6.88", "2.16.840.1.113883.12.292",
				"1.2.3.4.5.6.7.8.9.999999", "3.1", "01.2", "1.02", "1.", "1", "", "urn", "a.b.c"));
		for (String oid : inputs) {
			assertThat(ours.isKnownOID("urn:oid:" + oid)).as(oid).isEqualTo(known.invoke(theirs, "urn:oid:" + oid));
			assertThat(OIDUtilities.getUriForOid(oid)).as(oid).isEqualTo(invokeStatic("getUriForOid", oid));
			assertThat(OIDUtilities.oidTail(oid)).as(oid).isEqualTo(invokeStatic("oidTail", oid));
			assertThat(OIDUtilities.oidRoot(oid)).as(oid).isEqualTo(invokeStatic("oidRoot", oid));
			assertThat(OIDUtilities.isValidOID(oid)).as(oid).isEqualTo(invokeStatic("isValidOID", oid));
		}
		assertThat(ours.isKnownOID(registryOids.get(0))).as("without the urn:oid: prefix").isFalse();
		assertThat(ours.isKnownOID(null)).isEqualTo(known.invoke(theirs, (Object) null));
		assertThat(OIDUtilities.getUriForOid(null)).isEqualTo(invokeStatic("getUriForOid", (String) null));
	}

	@Test
	void everyInstanceSharesTheRegistryReadOnce() {
		assertThat(sharedMap(new OIDUtilities())).isSameAs(sharedMap(new OIDUtilities()));
		assertThat(new OIDUtilities().isKnownOID("urn:oid:2.16.840.1.113883.6.96")).isTrue();
	}

	private static Object sharedMap(OIDUtilities instance) {
		try {
			var field = OIDUtilities.class.getDeclaredField("oidMap");
			field.setAccessible(true);
			return field.get(instance);
		} catch (ReflectiveOperationException e) {
			throw new AssertionError(e);
		}
	}

	private static Object invokeStatic(String name, String argument) throws Exception {
		return original.getMethod(name, String.class).invoke(null, argument);
	}

	private static Set<String> signatures(Class<?> type) {
		Set<String> out = new TreeSet<>();
		for (Method m : type.getDeclaredMethods()) {
			if (Modifier.isPublic(m.getModifiers())) {
				out.add((Modifier.isStatic(m.getModifiers()) ? "static " : "") + m.getReturnType().getName() + " " + m.getName()
						+ Arrays.stream(m.getParameterTypes()).map(Class::getName).collect(Collectors.joining(",", "(", ")")));
			}
		}
		for (Constructor<?> c : type.getDeclaredConstructors()) {
			if (Modifier.isPublic(c.getModifiers())) {
				out.add("new" + Arrays.stream(c.getParameterTypes()).map(Class::getName).collect(Collectors.joining(",", "(", ")")));
			}
		}
		return out;
	}
}
