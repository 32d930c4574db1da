package org.nssifhir.server.security;

import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One SMART App Launch 2.2 resource scope, v1 ({@code patient/Observation.read}) or v2
 * ({@code patient/Observation.rs?category=…}), parsed. Letters must be a subset of {@code cruds} in that order;
 * anything else is not a resource scope and {@link #parse} returns empty (the caller decides whether to refuse).
 */
public record SmartScope(Context context, String resourceType, Set<Permission> permissions, Map<String, String> query) {

	public enum Context {
		PATIENT,
		USER,
		SYSTEM
	}

	public enum Permission {
		CREATE('c'),
		READ('r'),
		UPDATE('u'),
		DELETE('d'),
		SEARCH('s');

		final char letter;

		Permission(char letter) {
			this.letter = letter;
		}
	}

	private static final Pattern SCOPE =
			Pattern.compile("^(patient|user|system)/([A-Z][A-Za-z]+|\\*)\\.([a-z*]+)(?:\\?(.+))?$");
	private static final Pattern V2_LETTERS = Pattern.compile("^c?r?u?d?s?$");

	public static Optional<SmartScope> parse(String scope) {
		Matcher m = SCOPE.matcher(scope);
		if (!m.matches()) {
			return Optional.empty();
		}
		Context context = Context.valueOf(m.group(1).toUpperCase());
		String type = m.group(2);
		Set<Permission> permissions = permissions(m.group(3));
		if (permissions == null) {
			return Optional.empty();
		}
		Map<String, String> query = new LinkedHashMap<>();
		if (m.group(4) != null) {
			for (String pair : m.group(4).split("&")) {
				int eq = pair.indexOf('=');
				if (eq <= 0 || eq == pair.length() - 1) {
					return Optional.empty();
				}
				query.put(pair.substring(0, eq), pair.substring(eq + 1));
			}
		}
		return Optional.of(new SmartScope(context, type, permissions, Map.copyOf(query)));
	}

	/** v1 words map to v2 letters: read = rs, write = cud, * = cruds. */
	private static Set<Permission> permissions(String spec) {
		switch (spec) {
			case "read":
				return EnumSet.of(Permission.READ, Permission.SEARCH);
			case "write":
				return EnumSet.of(Permission.CREATE, Permission.UPDATE, Permission.DELETE);
			case "*":
				return EnumSet.allOf(Permission.class);
			default:
				if (spec.isEmpty() || !V2_LETTERS.matcher(spec).matches()) {
					return null;
				}
				EnumSet<Permission> out = EnumSet.noneOf(Permission.class);
				for (Permission p : Permission.values()) {
					if (spec.indexOf(p.letter) >= 0) {
						out.add(p);
					}
				}
				return out;
		}
	}

	public boolean appliesTo(String type) {
		return "*".equals(resourceType) || resourceType.equals(type);
	}

	public boolean allows(Permission permission) {
		return permissions.contains(permission);
	}
}
