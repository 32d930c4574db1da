package org.nssifhir.server.conformance;

import ca.uhn.fhir.jpa.term.api.ITermReadSvc;
import org.nssifhir.server.config.SearchIndexState;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.ApplicationArguments;
import org.springframework.boot.ApplicationRunner;
import org.springframework.core.annotation.Order;
import org.springframework.stereotype.Component;

/**
 * At startup: rebuild the terminology index if it is new, install the package, then warm the validator by validating every example in it. Runs as an
 * ApplicationRunner, so readiness (which Spring turns UP only after all runners) waits for both: the first
 * real request is neither refused for a missing profile nor slowed by validator initialisation.
 */
@Component
@Order(0)
class ConformanceStartup implements ApplicationRunner {

	private static final Logger log = LoggerFactory.getLogger(ConformanceStartup.class);

	private final ConformancePackage conformancePackage;
	private final ConformancePackageInstaller installer;
	private final NssiProfileValidator validator;
	private final SearchIndexState searchIndex;
	private final ITermReadSvc terminology;

	ConformanceStartup(
			ConformancePackage conformancePackage,
			ConformancePackageInstaller installer,
			NssiProfileValidator validator,
			SearchIndexState searchIndex,
			ITermReadSvc terminology) {
		this.conformancePackage = conformancePackage;
		this.installer = installer;
		this.validator = validator;
		this.searchIndex = searchIndex;
		this.terminology = terminology;
	}

	@Override
	public void run(ApplicationArguments args) throws InterruptedException {
		if (!searchIndex.existedAtStartup()) {
			// new or deleted index: rebuild it from the CodeSystems already in the database (none on a fresh one)
			log.info("Terminology index {} is new: rebuilding it from the database", searchIndex.directory());
			terminology.reindexTerminology();
		}
		installer.install(conformancePackage);
		validator.warmUp(conformancePackage.exampleFiles().values());
	}
}
