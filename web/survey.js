// The patient's survey, opened from the text message's link: one question at a time, large
// buttons, crisis resources as soon as the answers call for them. The link's token is the
// only credential and stays in the page (the URL fragment is never sent to a server).
import { ApiError, call, el } from "/web/api.js";

const token = location.hash.slice(1);
const box = document.getElementById("survey");

async function post(path, body) {
  return call("POST", path, { token, ...body }, { anonymous: true });
}

function showCrisis(resources) {
  if (!resources?.length) return;
  document.getElementById("crisis").classList.remove("hidden");
  document.getElementById("crisis").replaceChildren(
    el("h2", {}, "You do not have to go through this alone"),
    el("p", {}, "If you are thinking about harming yourself, please reach out now:"),
    el("ul", {}, resources.map((r) => el("li", {}, el("strong", {}, r.name), ": ", ...tappable(r.contact)))),
  );
}

// 988 and 911 become links a phone dials with one tap.
function tappable(text) {
  return text.split(/\b(988|911)\b/).map((part, i) => (i % 2 ? el("a", { href: `tel:${part}` }, part) : part));
}

function stop(message) {
  box.replaceChildren(el("p", { class: "question" }, message));
}

async function begin() {
  if (!token) return stop("This link is incomplete. Please open the link from your text message again.");
  try {
    const view = await post("/public/surveys");
    showCrisis(view.crisisResources);
    next(view);
  } catch (error) {
    stop(error instanceof ApiError ? error.message : "Something went wrong. Please try again later or call the clinic.");
  }
}

function next(view) {
  if (view.finished || !view.questionnaires.length) {
    return stop(view.message || "Thank you. Your answers have reached your care team.");
  }
  ask(view.questionnaires[0], {}, 0);
}

function asked(item, answers) {
  return !item.askedIf || item.askedIf[1].includes(answers[item.askedIf[0]]);
}

function ask(questionnaire, answers, index) {
  const remaining = questionnaire.items.slice(index).filter((item) => asked(item, answers));
  if (!remaining.length) return submit(questionnaire, answers);
  const item = remaining[0];
  const position = questionnaire.items.indexOf(item);
  box.replaceChildren(
    el("p", { class: "progress" }, `${questionnaire.title} · question ${position + 1} of ${questionnaire.items.length}`),
    el("p", {}, questionnaire.preamble),
    el("p", { class: "question", id: "question" }, item.text),
    el("div", { class: "options" }, item.options.map((option) => el("button", {
      type: "button", "data-value": option.value,
      onclick: () => ask(questionnaire, { ...answers, [item.linkId]: option.value }, position + 1),
    }, option.label))),
    index > 0 ? el("button", { type: "button", onclick: () => ask(questionnaire, {}, 0) }, "Start this questionnaire again") : "",
  );
}

async function submit(questionnaire, answers) {
  box.replaceChildren(el("p", {}, "Sending…"));
  try {
    const view = await post("/public/surveys/answers", { instrument: questionnaire.code, answers });
    showCrisis(view.crisisResources);
    next(view);
  } catch (error) {
    stop(error instanceof ApiError ? error.message : "Your answers could not be sent. Please try again.");
  }
}

begin();
