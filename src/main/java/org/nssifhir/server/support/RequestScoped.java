package org.nssifhir.server.support;

import ca.uhn.fhir.rest.api.server.RequestDetails;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * Values kept with one request ({@code RequestDetails.getUserData()}). HAPI processes the entries of a batch on
 * several threads that share that map (a plain HashMap), so every read and write of it goes through here,
 * synchronized on the map, and the caches handed out are concurrent.
 */
public final class RequestScoped {

	private RequestScoped() {}

	/** A concurrent cache kept with the request under this key (made on first use). */
	@SuppressWarnings("unchecked")
	public static <K, V> Map<K, V> cache(RequestDetails request, String key) {
		Map<Object, Object> data = request.getUserData();
		synchronized (data) {
			return (Map<K, V>) data.computeIfAbsent(key, k -> new ConcurrentHashMap<K, V>());
		}
	}

	/** The value kept under this key, made by {@code factory} on first use. */
	@SuppressWarnings("unchecked")
	public static <T> T value(RequestDetails request, String key, Supplier<T> factory) {
		Map<Object, Object> data = request.getUserData();
		synchronized (data) {
			return (T) data.computeIfAbsent(key, k -> factory.get());
		}
	}

	public static Object get(RequestDetails request, String key) {
		Map<Object, Object> data = request.getUserData();
		synchronized (data) {
			return data.get(key);
		}
	}

	public static void put(RequestDetails request, String key, Object value) {
		Map<Object, Object> data = request.getUserData();
		synchronized (data) {
			data.put(key, value);
		}
	}
}
