package org.nssifhir.server.conformance;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.jpa.api.dao.DaoRegistry;
import ca.uhn.fhir.jpa.packages.IHapiPackageCacheManager;
import ca.uhn.fhir.jpa.packages.IPackageInstallerSvc;
import ca.uhn.fhir.jpa.packages.PackageInstallOutcomeJson;
import ca.uhn.fhir.jpa.packages.PackageInstallationSpec;
import ca.uhn.fhir.rest.api.server.SystemRequestDetails;
import ca.uhn.fhir.rest.server.exceptions.ResourceGoneException;
import ca.uhn.fhir.rest.server.exceptions.ResourceNotFoundException;
import java.util.List;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.ImplementationGuide;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Service;

/**
 * Installs our FHIR package into the server, offline, from the classpath. A version that is already installed
 * is left alone; a new version overwrites the previous one in place (same ids, canonical URL match), so a
 * restart costs nothing and an upgrade needs no manual step.
 */
@Service
public class ConformancePackageInstaller {

	private static final Logger log = LoggerFactory.getLogger(ConformancePackageInstaller.class);

	/** Conformance resource types we install. ImplementationGuide goes last: its presence marks a complete install. */
	static final List<String> INSTALL_TYPES = List.of(
			"NamingSystem",
			"CodeSystem",
			"ValueSet",
			"ConceptMap",
			"StructureDefinition",
			"SearchParameter",
			"Questionnaire",
			"Library",
			"ActivityDefinition",
			"PlanDefinition",
			"OperationDefinition",
			"CapabilityStatement",
			"ImplementationGuide");

	static final String IMPLEMENTATION_GUIDE_ID = "nssi-ig";

	private final IPackageInstallerSvc installer;
	private final IHapiPackageCacheManager packageCache;
	private final DaoRegistry daoRegistry;

	public ConformancePackageInstaller(
			IPackageInstallerSvc installer, IHapiPackageCacheManager packageCache, DaoRegistry daoRegistry, FhirContext fhirContext) {
		this.installer = installer;
		this.packageCache = packageCache;
		this.daoRegistry = daoRegistry;
	}

	/** Result of one call: whether anything was written, and what. */
	public record Result(boolean installed, String version, PackageInstallOutcomeJson outcome) {}

	public Result install(ConformancePackage pkg) {
		if (isInstalled(pkg)) {
			log.info("FHIR package {}#{} is already installed", pkg.name(), pkg.version());
			return new Result(false, pkg.version(), null);
		}
		PackageInstallationSpec spec = new PackageInstallationSpec()
				.setName(pkg.name())
				.setVersion(pkg.version())
				.setPackageContents(pkg.bytes())
				.setInstallMode(PackageInstallationSpec.InstallModeEnum.STORE_AND_INSTALL)
				.setFetchDependencies(false)
				// ids come from the package and a newer version replaces the older one (matched by canonical URL)
				.setVersionPolicy(PackageInstallationSpec.VersionPolicyEnum.SINGLE_VERSION);
		spec.setReloadExisting(true);
		spec.setInstallResourceTypes(INSTALL_TYPES);
		long start = System.nanoTime();
		PackageInstallOutcomeJson outcome = installer.install(spec);
		log.info(
				"Installed FHIR package {}#{} in {} ms: {}",
				pkg.name(),
				pkg.version(),
				(System.nanoTime() - start) / 1_000_000,
				outcome.getResourcesInstalled());
		return new Result(true, pkg.version(), outcome);
	}

	/** Installed = HAPI's package store has this version and our ImplementationGuide (installed last) says so too. */
	boolean isInstalled(ConformancePackage pkg) {
		if (packageCache.loadPackageContents(pkg.name(), pkg.version()) == null) {
			return false;
		}
		try {
			ImplementationGuide ig = (ImplementationGuide) daoRegistry
					.getResourceDao("ImplementationGuide")
					.read(new IdType("ImplementationGuide", IMPLEMENTATION_GUIDE_ID), new SystemRequestDetails());
			return pkg.version().equals(ig.getVersion());
		} catch (ResourceNotFoundException | ResourceGoneException e) {
			return false;
		}
	}
}
