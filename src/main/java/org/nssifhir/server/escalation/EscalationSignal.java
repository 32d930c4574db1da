package org.nssifhir.server.escalation;

/**
 * One reason to alert clinicians, found in a resource being written.
 *
 * @param kind what kind of alert it raises
 * @param eventKey names the event, the same however often the data that shows it is written (for example
 *     {@code suicide-risk:QuestionnaireResponse/12}); the Flag and Task carry it as identifier, so one event never
 *     raises two alerts
 * @param evidence reference (Type/id) to the resource that shows it; the Flag points at it
 * @param reason short human text for the Flag and Task, without patient data beyond the kind of signal
 * @param taskPriority Task.priority: the kind's own, or lower for a risk factor rather than a direct signal (a
 *     PHQ-9 total of 20 or more with item 9 at 0 is a suicide-risk alert of priority asap, not urgent)
 */
public record EscalationSignal(Kind kind, String eventKey, String evidence, String reason, String taskPriority) {

	/** A signal whose Task has its kind's priority. */
	public EscalationSignal(Kind kind, String eventKey, String evidence, String reason) {
		this(kind, eventKey, evidence, reason, kind.taskPriority());
	}

	/** The alert kinds of the IG (nssi-suicide-risk-flag; nssi-escalation-flag for the other two). */
	public enum Kind {
		SUICIDE_RISK("suicide-risk", "Suicide risk", "asap"),
		NSSI_ESCALATION("nssi-escalation", "NSSI escalation", "urgent"),
		/**
		 * A PHQ-9 total of 20 or more with item 9 at 0 (issue 19 review, item 3): severe depression is a risk factor for
		 * suicide, not a sign of ideation, so it is not coded suicide-risk (which would count it among suicide-risk
		 * alerts, add the suicide-risk pathway to an active plan and colour it as such in the clinician app); it still
		 * asks for a prompt review (urgent).
		 */
		SEVERE_DEPRESSION_SCORE("severe-depression-score", "Severe depression score", "urgent");

		private final String code;
		private final String display;
		private final String taskPriority;

		Kind(String code, String display, String taskPriority) {
			this.code = code;
			this.display = display;
			this.taskPriority = taskPriority;
		}

		/** Local code (nssi-concepts-cs) of the Flag and the Task. */
		public String code() {
			return code;
		}

		public String display() {
			return display;
		}

		/** Task.priority: suicide risk asap; NSSI escalation and a severe depression score urgent. */
		public String taskPriority() {
			return taskPriority;
		}
	}
}
