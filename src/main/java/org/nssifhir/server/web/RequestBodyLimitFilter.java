package org.nssifhir.server.web;

import ca.uhn.fhir.context.FhirContext;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;
import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.nssifhir.server.settings.NssiProperties;
import org.nssifhir.server.support.ErrorCode;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.stereotype.Component;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * Refuses request bodies larger than {@code nssi.limits.max-request-body} with 413 and an OperationOutcome,
 * before anything is parsed. A declared Content-Length is checked up front; a chunked body is read up to the
 * limit and refused as soon as it goes over.
 */
@Component
@Order(Ordered.HIGHEST_PRECEDENCE + 10)
public class RequestBodyLimitFilter extends OncePerRequestFilter {

	private final long maxBytes;
	private final FhirContext fhirContext;

	public RequestBodyLimitFilter(NssiProperties properties, FhirContext fhirContext) {
		this.maxBytes = properties.limits().maxRequestBody().toBytes();
		this.fhirContext = fhirContext;
	}

	@Override
	protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
			throws ServletException, IOException {
		long declared = request.getContentLengthLong();
		if (declared > maxBytes) {
			reject(response);
			return;
		}
		if (declared >= 0 || !hasBody(request)) {
			chain.doFilter(request, response);
			return;
		}
		byte[] body = readAtMost(request.getInputStream(), maxBytes + 1);
		if (body.length > maxBytes) {
			reject(response);
			return;
		}
		chain.doFilter(new CachedBodyRequest(request, body), response);
	}

	private static boolean hasBody(HttpServletRequest request) {
		String method = request.getMethod();
		return "POST".equals(method) || "PUT".equals(method) || "PATCH".equals(method);
	}

	private static byte[] readAtMost(InputStream in, long limit) throws IOException {
		ByteArrayOutputStream out = new ByteArrayOutputStream();
		byte[] buffer = new byte[8192];
		int read;
		while (out.size() < limit && (read = in.read(buffer)) != -1) {
			out.write(buffer, 0, read);
		}
		return out.toByteArray();
	}

	private void reject(HttpServletResponse response) throws IOException {
		OperationOutcome outcome = new OperationOutcome();
		outcome.addIssue()
				.setSeverity(OperationOutcome.IssueSeverity.ERROR)
				.setCode(OperationOutcome.IssueType.TOOLONG)
				.setDiagnostics(ErrorCode.REQUEST_BODY_TOO_LARGE.message(
						"The request body exceeds the limit of " + maxBytes + " bytes"));
		response.setStatus(413);
		response.setContentType("application/fhir+json;charset=utf-8");
		// the client may still be sending; tell it not to reuse the connection
		response.setHeader("Connection", "close");
		response.getWriter().write(fhirContext.newJsonParser().encodeResourceToString(outcome));
	}

	/** Replays a body that was already read, so HAPI can parse it as usual. */
	private static final class CachedBodyRequest extends HttpServletRequestWrapper {
		private final byte[] body;

		CachedBodyRequest(HttpServletRequest request, byte[] body) {
			super(request);
			this.body = body;
		}

		@Override
		public ServletInputStream getInputStream() {
			ByteArrayInputStream in = new ByteArrayInputStream(body);
			return new ServletInputStream() {
				@Override
				public boolean isFinished() {
					return in.available() == 0;
				}

				@Override
				public boolean isReady() {
					return true;
				}

				@Override
				public void setReadListener(ReadListener listener) {
					throw new UnsupportedOperationException("synchronous reads only");
				}

				@Override
				public int read() {
					return in.read();
				}

				@Override
				public int read(byte[] b, int off, int len) {
					return in.read(b, off, len);
				}
			};
		}

		@Override
		public BufferedReader getReader() {
			String encoding = getCharacterEncoding();
			Charset charset = encoding == null ? StandardCharsets.UTF_8 : Charset.forName(encoding);
			return new BufferedReader(new InputStreamReader(getInputStream(), charset));
		}

		@Override
		public int getContentLength() {
			return body.length;
		}

		@Override
		public long getContentLengthLong() {
			return body.length;
		}
	}
}
