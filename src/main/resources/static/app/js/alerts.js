// Alerts: open suicide-risk Flags and urgent Tasks first, each with what raised it (the Flag's flag-detail
// evidence, the Task's focus and reason), and an action to close a Task.
import { conceptText } from "./fhir.js";

const FLAG_DETAIL = "http://hl7.org/fhir/StructureDefinition/flag-detail";
const OPEN_TASK = "draft,requested,received,accepted,ready,in-progress,on-hold";
const URGENT = { stat: 0, asap: 1, urgent: 2, routine: 3 };

function isSuicideRisk(resource) {
  return ((resource.code && resource.code.coding) || []).some(c => c.code === "suicide-risk");
}

function evidenceOf(flag) {
  const ext = (flag.extension || []).find(e => e.url === FLAG_DETAIL);
  return ext && ext.valueReference ? ext.valueReference.reference : null;
}

export function order(flags, tasks) {
  const items = [
    ...flags.map(f => ({ kind: "flag", resource: f, rank: isSuicideRisk(f) ? 0 : 3 })),
    ...tasks.map(t => ({ kind: "task", resource: t, rank: isSuicideRisk(t) ? 1 : (URGENT[t.priority] ?? 3) <= 2 ? 2 : 4 })),
  ];
  // suicide risk first, then urgent Tasks (stat before asap before urgent), then the rest
  return items.sort((a, b) => a.rank - b.rank || (URGENT[a.resource.priority] ?? 3) - (URGENT[b.resource.priority] ?? 3));
}

export async function renderAlerts(fhir, list, refresh) {
  const patient = encodeURIComponent(fhir.patientId);
  const [flags, tasks] = await Promise.all([
    // Flag has no standard status search parameter in R4; the package defines nssi-status
    fhir.search("Flag?patient=" + patient + "&nssi-status=active"),
    fhir.search("Task?patient=" + patient + "&status=" + OPEN_TASK),
  ]);
  list.replaceChildren();
  const items = order(flags, tasks);
  if (items.length === 0) {
    const li = document.createElement("li");
    li.textContent = "No open alerts.";
    list.appendChild(li);
    return;
  }
  for (const item of items) {
    list.appendChild(item.kind === "flag" ? flagItem(item.resource) : taskItem(fhir, item.resource, refresh));
  }
}

function line(text, className) {
  const p = document.createElement("p");
  p.textContent = text;
  if (className) p.className = className;
  return p;
}

function flagItem(flag) {
  const li = document.createElement("li");
  li.className = "alert " + (isSuicideRisk(flag) ? "alert-critical" : "alert-warning");
  li.dataset.kind = "flag";
  li.dataset.code = ((flag.code && flag.code.coding) || []).map(c => c.code).join(" ");
  const title = ((flag.code && flag.code.coding) || [])[0];
  li.append(
    line(isSuicideRisk(flag) ? "Suicide risk" : "Flag: " + ((title && title.display) || "alert"), "alert-title"),
    line(conceptText(flag.code)),
    line("Raised by " + (evidenceOf(flag) || "unknown") + (flag.period && flag.period.start ? " on " + flag.period.start.substring(0, 10) : ""), "alert-source"));
  return li;
}

function taskItem(fhir, task, refresh) {
  const li = document.createElement("li");
  li.className = "alert " + ((URGENT[task.priority] ?? 3) <= 2 ? "alert-urgent" : "alert-info");
  li.dataset.kind = "task";
  li.dataset.task = task.id;
  li.append(
    line("Task (" + (task.priority || "routine") + ", " + task.status + "): " + (task.description || conceptText(task.code)), "alert-title"),
    line("About " + ((task.focus && task.focus.reference) || "–") + ", raised by "
      + (((task.reasonReference && task.reasonReference.reference)) || "–"), "alert-source"));
  const button = document.createElement("button");
  button.type = "button";
  button.textContent = "Close task";
  button.className = "close-task";
  button.setAttribute("aria-label", "Close task: " + (task.description || task.id));
  const result = line("", "alert-result");
  result.setAttribute("role", "status");
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      await fhir.update({ ...task, status: "completed" });
      await refresh();
    } catch (error) {
      result.textContent = "Could not close the task: " + error.message;
      button.disabled = false;
    }
  });
  li.append(button, result);
  return li;
}
