package org.nssifhir.server.notification;

import ca.uhn.fhir.jpa.subscription.match.config.SubscriptionProcessorConfig;
import ca.uhn.fhir.jpa.subscription.match.deliver.email.IEmailSender;
import ca.uhn.fhir.jpa.subscription.submit.config.SubscriptionSubmitterConfig;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;

/**
 * FHIR R4 Subscriptions, rest-hook channel: HAPI's matcher (submitter) and delivery (processor), on the
 * in-process broker of {@code SubscriptionChannelConfig}. An EHR subscribes, for example, to
 * {@code Flag?nssi-code=https://nssi-fhir.org/fhir/CodeSystem/nssi-concepts-cs|suicide-risk} or
 * {@code Task?priority=urgent} and is called when the escalation raises one. A failed delivery is retried with
 * exponential back-off for a minute (HAPI's channel retry policy). Matching happens after commit, so a
 * notification is only sent for data that was stored.
 *
 * <p>Only rest-hook is enabled (HapiJpaConfig.subscriptionSettings); e-mail and websocket
 * subscriptions are refused when created.
 */
@Configuration(proxyBeanMethods = false)
@Import({SubscriptionSubmitterConfig.class, SubscriptionProcessorConfig.class})
class NotificationConfig {

	/** HAPI's delivery factory wants an e-mail sender; e-mail subscriptions are not supported, so none is sent. */
	@Bean
	IEmailSender emailSender() {
		return details -> {
			throw new UnsupportedOperationException("E-mail subscriptions are not supported by this server");
		};
	}
}
