package org.nssifhir.server.relabel;

import jakarta.validation.constraints.NotNull;
import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * {@code nssi.relabel.*}: {@code onRulesChange} starts the relabelling job at startup when the labelling rules'
 * fingerprint differs from the one last applied; {@code staleChunkAfter}: a work chunk a node took and has not
 * touched for this long is queued again (its node was lost). A chunk done twice changes nothing twice, so a short
 * value only costs work.
 */
@Validated
@ConfigurationProperties("nssi.relabel")
public record RelabelProperties(
		@DefaultValue("true") boolean onRulesChange,
		@NotNull @DefaultValue("PT10M") Duration staleChunkAfter) {}
