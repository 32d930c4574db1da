package org.nssifhir.server.limits;

import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Interceptor;
import ca.uhn.fhir.interceptor.api.Pointcut;
import ca.uhn.fhir.rest.api.Constants;
import ca.uhn.fhir.rest.api.RestOperationTypeEnum;
import ca.uhn.fhir.rest.api.server.RequestDetails;
import ca.uhn.fhir.rest.server.exceptions.InvalidRequestException;
import ca.uhn.fhir.rest.server.exceptions.PayloadTooLargeException;
import java.util.Map;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.Bundle;
import org.nssifhir.server.settings.NssiProperties;
import org.nssifhir.server.support.ErrorCode;
import org.springframework.stereotype.Component;

/**
 * Enforces the request limits that protect the server from expensive requests: page size ({@code _count}),
 * include fan-out ({@code _include}/{@code _revinclude} parameters) and batch/transaction size. A request over a
 * limit is refused with a 4xx and an OperationOutcome; it is never silently truncated, so a client cannot mistake
 * a partial answer for a complete one. (The request body size limit is a servlet filter, because it must act
 * before HAPI parses anything.)
 */
@Interceptor
@Component
public class RequestLimitsInterceptor {

	private final int maxPageSize;
	private final int maxIncludeParameters;
	private final int maxBundleEntries;

	public RequestLimitsInterceptor(NssiProperties properties) {
		this.maxPageSize = properties.fhir().maxPageSize();
		this.maxIncludeParameters = properties.limits().maxIncludeParameters();
		this.maxBundleEntries = properties.limits().maxBundleEntries();
	}

	@Hook(Pointcut.SERVER_INCOMING_REQUEST_PRE_HANDLED)
	public void checkLimits(RequestDetails request, RestOperationTypeEnum operation) {
		checkCount(request.getParameters());
		checkIncludes(request.getParameters());
		if (operation == RestOperationTypeEnum.TRANSACTION || operation == RestOperationTypeEnum.BATCH) {
			checkBundle(request.getResource());
		}
	}

	private void checkCount(Map<String, String[]> parameters) {
		String[] counts = parameters.get(Constants.PARAM_COUNT);
		if (counts == null) {
			return;
		}
		for (String value : counts) {
			int count;
			try {
				count = Integer.parseInt(value.trim());
			} catch (NumberFormatException e) {
				throw new InvalidRequestException(
						ErrorCode.COUNT_INVALID.message("_count must be a non-negative integer"));
			}
			if (count < 0) {
				throw new InvalidRequestException(
						ErrorCode.COUNT_INVALID.message("_count must be a non-negative integer"));
			}
			if (count > maxPageSize) {
				throw new InvalidRequestException(ErrorCode.COUNT_TOO_LARGE.message(
						"_count=" + count + " exceeds the maximum page size of " + maxPageSize));
			}
		}
	}

	private void checkIncludes(Map<String, String[]> parameters) {
		int includes = 0;
		for (Map.Entry<String, String[]> parameter : parameters.entrySet()) {
			String name = parameter.getKey();
			if (name.startsWith(Constants.PARAM_INCLUDE) || name.startsWith(Constants.PARAM_REVINCLUDE)) {
				includes += parameter.getValue().length;
			}
		}
		if (includes > maxIncludeParameters) {
			throw new InvalidRequestException(ErrorCode.TOO_MANY_INCLUDES.message("The request has " + includes
					+ " _include/_revinclude parameters; the maximum is " + maxIncludeParameters));
		}
	}

	private void checkBundle(IBaseResource resource) {
		if (resource instanceof Bundle bundle && bundle.getEntry().size() > maxBundleEntries) {
			throw new PayloadTooLargeException(ErrorCode.BUNDLE_TOO_MANY_ENTRIES.message("The " + bundle.getType().toCode()
					+ " has " + bundle.getEntry().size() + " entries; the maximum is " + maxBundleEntries));
		}
	}
}
