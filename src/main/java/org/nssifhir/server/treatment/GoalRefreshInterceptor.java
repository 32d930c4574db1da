package org.nssifhir.server.treatment;

import static org.nssifhir.server.conformance.NssiCanonicals.CONCEPTS_SYSTEM;

import ca.uhn.fhir.interceptor.api.Hook;
import ca.uhn.fhir.interceptor.api.Interceptor;
import ca.uhn.fhir.interceptor.api.Pointcut;
import ca.uhn.fhir.jpa.api.dao.DaoRegistry;
import ca.uhn.fhir.jpa.searchparam.SearchParameterMap;
import ca.uhn.fhir.rest.api.server.SystemRequestDetails;
import ca.uhn.fhir.rest.param.ReferenceParam;
import ca.uhn.fhir.rest.param.TokenParam;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.CarePlan;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Procedure;
import org.hl7.fhir.r4.model.Reference;
import org.nssifhir.server.support.WholeHistory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.transaction.support.TransactionSynchronization;
import org.springframework.transaction.support.TransactionSynchronizationManager;

/**
 * Keeps Goals' achievement status following the data: after a transaction that stores an episode, a diary card or
 * a delivered session commits, the patient's active DBT/CBT plans are re-assessed (off the request thread, so the
 * clinician's write is not slowed down) and any Goal whose status changed is updated. {@code $nssi-progress}
 * does the same synchronously, so nothing depends on this running.
 */
@Interceptor
public class GoalRefreshInterceptor {

	private static final Logger log = LoggerFactory.getLogger(GoalRefreshInterceptor.class);

	private final DaoRegistry daoRegistry;
	private final TreatmentProgress progress;
	private final ExecutorService executor;
	private final Set<String> pending = ConcurrentHashMap.newKeySet();

	public GoalRefreshInterceptor(DaoRegistry daoRegistry, TreatmentProgress progress) {
		this.daoRegistry = daoRegistry;
		this.progress = progress;
		// one daemon worker (not a Spring bean, which Boot would take as the application's task executor):
		// refreshes are small and ordered, and a burst of writes queues rather than competes
		this.executor = Executors.newSingleThreadExecutor(r -> {
			Thread t = new Thread(r, "nssi-goal-refresh");
			t.setDaemon(true);
			return t;
		});
	}

	public void shutdown() {
		executor.shutdown();
	}

	@Hook(Pointcut.STORAGE_PRECOMMIT_RESOURCE_CREATED)
	public void created(IBaseResource resource) {
		schedule(resource);
	}

	@Hook(Pointcut.STORAGE_PRECOMMIT_RESOURCE_UPDATED)
	public void updated(IBaseResource previous, IBaseResource resource) {
		schedule(resource);
	}

	@Hook(Pointcut.STORAGE_PRECOMMIT_RESOURCE_DELETED)
	public void deleted(IBaseResource resource) {
		schedule(resource);
	}

	private void schedule(IBaseResource resource) {
		Optional<String> patient = patientOfProgressData(resource);
		if (patient.isEmpty() || !TransactionSynchronizationManager.isSynchronizationActive()) {
			return;
		}
		TransactionSynchronizationManager.registerSynchronization(new TransactionSynchronization() {
			@Override
			public void afterCommit() {
				// one queued refresh per patient: a transaction of 500 diary cards asks once, not 500 times
				if (!pending.add(patient.get())) {
					return;
				}
				try {
					executor.submit(() -> {
						pending.remove(patient.get());
						refresh(patient.get());
					});
				} catch (RejectedExecutionException e) {
					pending.remove(patient.get()); // shutting down: the write is stored; $nssi-progress will catch up
				}
			}
		});
	}

	static Optional<String> patientOfProgressData(IBaseResource resource) {
		if (resource instanceof Observation obs && obs.getCode().getCoding().stream()
				.anyMatch(c -> CONCEPTS_SYSTEM.equals(c.getSystem()) && ("nssi-episode".equals(c.getCode()) || "diary-card".equals(c.getCode())))) {
			return reference(obs.getSubject());
		}
		if (resource instanceof Procedure p && p.hasBasedOn()) {
			return reference(p.getSubject());
		}
		return Optional.empty();
	}

	private static Optional<String> reference(Reference subject) {
		String ref = subject.getReference();
		return ref != null && ref.startsWith("Patient/") ? Optional.of(ref) : Optional.empty();
	}

	void refresh(String patient) {
		try {
			SearchParameterMap map = SearchParameterMap.newSynchronous()
					.add(CarePlan.SP_SUBJECT, new ReferenceParam(patient))
					.add(CarePlan.SP_STATUS, new TokenParam("active"));
			LocalDate today = LocalDate.now(ZoneOffset.UTC);
			for (IBaseResource r : WholeHistory.all(daoRegistry.getResourceDao("CarePlan").search(map, new SystemRequestDetails()))) {
				CarePlan plan = (CarePlan) r;
				if (CarePlanProgressProvider.isTreatmentPlan(plan)) {
					progress.refreshGoals(progress.compute(plan, today));
				}
			}
		} catch (RuntimeException e) {
			// never the data itself: only which step failed
			log.warn("Goal refresh after a write failed: {}", e.getClass().getSimpleName());
		}
	}
}
