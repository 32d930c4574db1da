package org.nssifhir.server.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.jpa.api.dao.DaoRegistry;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.CapabilityStatement;
import org.hl7.fhir.r4.model.OperationDefinition;
import org.hl7.fhir.r4.model.StructureDefinition;
import org.junit.jupiter.api.Test;
import org.nssifhir.server.support.BaseIT;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * GET /metadata against what the server really does (informaticist review s8, W6): every resource type it accepts is
 * listed, each of our operations names the OperationDefinition our package publishes for it and that definition
 * resolves on the server; the package's requirements statement lists the types the NSSI workflows use (the people
 * and organisations who own alerts, the records that complete them), and its operations and search parameters of
 * ours resolve too.
 */
class MetadataIT extends BaseIT {

	@Autowired
	private DaoRegistry daoRegistry;

	@Autowired
	private ConformancePackage pkg;

	private CapabilityStatement metadata() throws Exception {
		// public: no token
		HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(fhirBase() + "/metadata"))
				.header("Accept", "application/fhir+json").build(), HttpResponse.BodyHandlers.ofString());
		assertThat(response.statusCode()).isEqualTo(200);
		return (CapabilityStatement) fhirContext.newJsonParser().parseResource(response.body());
	}

	/** The package's OperationDefinitions (definition canonical with version → the resources it is bound to, or "system"). */
	private Map<String, OperationDefinition> packageOperations() {
		Map<String, OperationDefinition> out = new TreeMap<>();
		for (String json : pkg.conformanceFiles().values()) {
			if (json.contains("\"resourceType\": \"OperationDefinition\"") || json.contains("\"resourceType\":\"OperationDefinition\"")) {
				OperationDefinition od = (OperationDefinition) fhirContext.newJsonParser().parseResource(json);
				out.put(od.getUrl() + "|" + od.getVersion(), od);
			}
		}
		assertThat(out).as("the package's OperationDefinitions").isNotEmpty();
		return out;
	}

	/** The OperationDefinition this canonical (url|version) names, as the server holds it. */
	private OperationDefinition resolve(String canonical) {
		int bar = canonical.indexOf('|');
		Bundle found = client().search().forResource(OperationDefinition.class)
				.where(OperationDefinition.URL.matches().value(canonical.substring(0, bar)))
				.and(OperationDefinition.VERSION.exactly().code(canonical.substring(bar + 1)))
				.returnBundle(Bundle.class).execute();
		assertThat(found.getEntry()).as(canonical + " resolves on the server").hasSize(1);
		return (OperationDefinition) found.getEntryFirstRep().getResource();
	}

	@Test
	void everyAcceptedTypeIsListed_andEachOfOurOperationsNamesItsResolvablePackageDefinition() throws Exception {
		CapabilityStatement cs = metadata();
		CapabilityStatement.CapabilityStatementRestComponent rest = cs.getRestFirstRep();
		Set<String> listed = new TreeSet<>();
		rest.getResource().forEach(r -> listed.add(r.getType()));
		List<String> accepted = new ArrayList<>();
		for (String type : fhirContext.getResourceTypes()) {
			if (daoRegistry.isResourceTypeSupported(type)) {
				accepted.add(type);
			}
		}
		assertThat(accepted).contains("RelatedPerson", "Organization", "Practitioner", "RiskAssessment", "Task");
		assertThat(listed).as("every resource type the server stores is in /metadata").containsAll(accepted);

		// each of our operations (package OperationDefinitions) is listed where it is bound, with that definition
		for (Map.Entry<String, OperationDefinition> e : packageOperations().entrySet()) {
			OperationDefinition od = e.getValue();
			List<CapabilityStatement.CapabilityStatementRestResourceOperationComponent> where = new ArrayList<>();
			if (od.getSystem()) {
				rest.getOperation().stream().filter(o -> o.getName().equals(od.getCode())).forEach(where::add);
			}
			for (var type : od.getResource()) {
				rest.getResource().stream().filter(r -> r.getType().equals(type.getCode())).flatMap(r -> r.getOperation().stream())
						.filter(o -> o.getName().equals(od.getCode())).forEach(where::add);
			}
			assertThat(where).as("$" + od.getCode() + " listed " + (od.getSystem() ? "at system level" : "on " + od.getResource().size() + " type(s)"))
					.hasSize((od.getSystem() ? 1 : 0) + od.getResource().size());
			assertThat(where).allSatisfy(o -> assertThat(o.getDefinition()).isEqualTo(e.getKey()));
			assertThat(resolve(e.getKey()).getCode()).isEqualTo(od.getCode());
		}
		// the operations the reviewer found missing are among them
		Set<String> ours = new TreeSet<>();
		packageOperations().values().forEach(od -> ours.add(od.getCode()));
		assertThat(ours).contains("nssi-summary", "nssi-progress", "nssi-invite", "nssi-disable-account", "nssi-revoke-invitation",
				"nssi-relabel", "nssi-relabel-status", "populate", "extract", "apply");
	}

	@Test
	void thePackagesRequirementsStatement_listsTheWorkflowsTypes_resolvableOperations_andRealSearchParameters() throws Exception {
		CapabilityStatement metadata = metadata();
		Set<String> served = new TreeSet<>();
		metadata.getRestFirstRep().getResource().forEach(r -> served.add(r.getType()));
		CapabilityStatement requirements = client().read().resource(CapabilityStatement.class).withId("nssi-server").execute();
		CapabilityStatement.CapabilityStatementRestComponent rest = requirements.getRestFirstRep();
		Map<String, CapabilityStatement.CapabilityStatementRestResourceComponent> byType = new TreeMap<>();
		rest.getResource().forEach(r -> byType.put(r.getType(), r));

		// the types the workflows write and read: profiles' types, examples' types, those the server itself makes,
		// who owns and closes alerts and what completes them
		Set<String> needed = new TreeSet<>(List.of("RelatedPerson", "Organization", "Practitioner", "PractitionerRole", "RiskAssessment",
				"ClinicalImpression", "DocumentReference", "Task", "Flag", "OperationDefinition"));
		for (String json : pkg.conformanceFiles().values()) {
			if (json.contains("\"resourceType\": \"StructureDefinition\"")) {
				needed.add(((StructureDefinition) fhirContext.newJsonParser().parseResource(json)).getType());
			}
		}
		for (String json : pkg.exampleFiles().values()) {
			needed.add(fhirContext.newJsonParser().parseResource(json).fhirType());
		}
		assertThat(byType.keySet()).as("the requirements statement lists every type the NSSI workflows use").containsAll(needed);
		assertThat(served).as("and the server serves each of them").containsAll(byType.keySet());

		// every operation it names resolves here, and is our own or a core one
		List<CapabilityStatement.CapabilityStatementRestResourceOperationComponent> operations = new ArrayList<>(rest.getOperation());
		byType.values().forEach(r -> operations.addAll(r.getOperation()));
		for (var op : operations) {
			if (op.getDefinition().startsWith("https://nssi-fhir.org/")) {
				assertThat(resolve(op.getDefinition()).getCode()).as(op.getDefinition()).isEqualTo(op.getName());
			} else {
				assertThat(op.getDefinition()).as("$" + op.getName()).startsWith("http://hl7.org/fhir/OperationDefinition/");
			}
		}
		assertThat(operations).extracting(o -> o.getName()).contains("nssi-summary", "nssi-progress", "populate", "extract", "apply",
				"nssi-invite", "nssi-relabel");

		// our own search parameters resolve on the server (the core ones: ClinicalContentReviewTest)
		for (var resource : byType.values()) {
			for (var param : resource.getSearchParam()) {
				if (param.getDefinition().startsWith("https://nssi-fhir.org/")) {
					assertThat(client().search().forResource(org.hl7.fhir.r4.model.SearchParameter.class)
							.where(org.hl7.fhir.r4.model.SearchParameter.URL.matches().value(param.getDefinition())).returnBundle(Bundle.class)
							.execute().getEntry()).as(param.getDefinition()).hasSize(1);
				}
			}
		}
		assertThat(byType.get("Task").getSearchParam()).extracting(p -> p.getName()).contains("priority");
	}
}
