package org.nssifhir.server.treatment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.nssifhir.server.conformance.NssiCanonicals.CONCEPTS_SYSTEM;

import java.time.LocalDate;
import java.util.List;
import org.hl7.fhir.r4.model.CarePlan;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Goal;
import org.hl7.fhir.r4.model.Quantity;
import org.hl7.fhir.r4.model.Range;
import org.junit.jupiter.api.Test;

/** The "fewer episodes" goal's status never contradicts the figures shown beside it. */
class TreatmentProgressTest {

	private static Goal fewerEpisodes(int atMost) {
		Goal goal = new Goal();
		goal.getDescription().addCoding(new Coding(CONCEPTS_SYSTEM, "goal-fewer-episodes", "Fewer episodes"));
		goal.addTarget().setDetail(new Range().setHigh(new Quantity(atMost)));
		return goal;
	}

	private static TreatmentProgress.Progress progress(int before, int since, int last30, int previous30) {
		return progress(before, since, last30, previous30, 0);
	}

	private static TreatmentProgress.Progress progress(int before, int since, int last30, int previous30, int otherSelfHarm) {
		LocalDate today = LocalDate.of(2026, 12, 6);
		return new TreatmentProgress.Progress(new CarePlan(), today.minusDays(90), today, 90, before, since, last30, 10,
				List.of(), null, null, List.of(), previous30, otherSelfHarm);
	}

	@Test
	void aRiseInTheLastThirtyDaysIsWorseningWhateverThePlansWholeSpanSays() {
		// since the plan started: 3 against 5 in as many days before (better); but the last 30 days: 2 against 1
		TreatmentProgress.GoalStatus status = TreatmentProgress.status(fewerEpisodes(1), progress(5, 3, 2, 1));
		assertThat(status.achievement()).isEqualTo("worsening");
		assertThat(status.reason()).contains("2 episode(s) in the last 30 days").contains("1 in the 30 days before");
	}

	@Test
	void aFallInTheLastThirtyDaysIsImproving() {
		assertThat(TreatmentProgress.status(fewerEpisodes(1), progress(3, 5, 2, 4)).achievement()).isEqualTo("improving");
	}

	@Test
	void levelRecentFiguresFallBackToThePlansWholeSpan() {
		assertThat(TreatmentProgress.status(fewerEpisodes(1), progress(6, 4, 3, 3)).achievement()).isEqualTo("improving");
		assertThat(TreatmentProgress.status(fewerEpisodes(1), progress(2, 4, 3, 3)).achievement()).isEqualTo("worsening");
	}

	@Test
	void withinTheTargetAndNotRisingIsAchieved() {
		assertThat(TreatmentProgress.status(fewerEpisodes(1), progress(6, 1, 1, 1)).achievement()).isEqualTo("achieved");
		assertThat(TreatmentProgress.status(fewerEpisodes(1), progress(6, 1, 1, 0)).achievement()).isEqualTo("worsening");
	}

	@Test
	void anEpisodeWithIntentUnsureNeverMakesTheStatusMilderThanTheCounts() {
		// the same 2-against-1 counts read "worsening"; an episode with intent unsure beside them must not make it "in progress"
		TreatmentProgress.GoalStatus status = TreatmentProgress.status(fewerEpisodes(1), progress(5, 3, 2, 1, 1));
		assertThat(status.achievement()).isEqualTo("worsening");
		assertThat(status.reason()).contains("not judged as achieved").contains("review suicide risk");
		// it only takes "achieved" away
		assertThat(TreatmentProgress.status(fewerEpisodes(1), progress(6, 1, 1, 1, 1)).achievement()).isEqualTo("in-progress");
		assertThat(TreatmentProgress.status(fewerEpisodes(1), progress(3, 5, 2, 4, 1)).achievement()).isEqualTo("improving");
	}
}
