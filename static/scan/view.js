// Drawing the scanning page from the local picture (field.js). No logic of its own.

/** Fill "%(name)s" placeholders, as in the server's translations. */
export function fmt(template, params = {}) {
  return String(template ?? "").replace(/%\((\w+)\)s/g, (_, key) => String(params[key] ?? ""));
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key.startsWith("data-")) node.setAttribute(key, value);
    else node[key] = value;
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

/** How a scan is named on this phone: the server's masked name, or the end of the code. */
export function scanLabel(action, T) {
  if (action.shown) return `${action.shown.name_masked} ${action.shown.id_masked}`;
  if (action.body.qr) return `…${action.body.qr.slice(-6)}`;
  if (action.body.resident?.name) return `${action.body.resident.name.slice(0, 1)}*`;
  return T.no_code_person;
}

function stateLabel(action, T) {
  if (action.undone && action.state !== "failed") return T.state_undone;
  return T[`state_${action.state}`] || action.state;
}

export class View {
  constructor(root, T) {
    this.T = T;
    this.$ = (sel) => root.querySelector(sel);
  }

  status({ online, pending, problem }) {
    const T = this.T;
    const net = this.$("#net-status");
    net.textContent = online ? T.online : T.offline;
    net.className = `net ${online ? "net-online" : "net-offline"}`;
    const box = this.$("#pending");
    box.dataset.count = String(pending);
    box.textContent = pending ? fmt(T.pending, { n: pending }) : T.all_sent;
    box.classList.toggle("pending-some", pending > 0);
    const note = this.$("#sync-problem");
    const text = problem === "auth" ? T.login_again : problem === "server" ? T.server_error : "";
    note.textContent = text;
    note.hidden = !text;
  }

  tube(field, tube) {
    const T = this.T;
    this.$("#prompt").textContent = tube ? T.scan_residents : T.scan_tube;
    this.$("#tube-code").textContent = tube ? tube.code : "";
    const counter = this.$("#counter");
    counter.textContent = tube ? `${field.count(tube.code)}/${tube.capacity}` : "";
    counter.dataset.count = tube ? String(field.count(tube.code)) : "";
    this.$("#capacity").hidden = Boolean(tube);
    this.$("#undo").disabled = !tube || !field.liveScans(tube.code).length;
    this.$("#seal").disabled = !tube;
    this.$("#no-code").disabled = !tube;
    const shown = tube || field.recentTubes(1)[0];
    const list = this.$("#tube-list");
    list.replaceChildren(...(shown ? field.scans(shown.code) : []).reverse().map((a) => el("li", {
      class: `scan-item scan-${a.undone ? "undone" : a.state}`, "data-client-id": a.client_id,
    }, el("span", { class: "who", textContent: scanLabel(a, T) }),
    el("span", { class: "state", textContent: stateLabel(a, T) }))));
  }

  message(text, kind) {
    const box = this.$("#message");
    box.textContent = text || "";
    box.className = `message ${kind ? `message-${kind}` : ""}`;
  }

  problems(field, fixes) {
    const T = this.T;
    const items = field.problems().map((a) => {
      const error = a.result?.body?.error || {};
      const title = a.op === "add_sample" ? scanLabel(a, T)
        : a.op === "undo" ? T.undo_failed : fmt(T.problem_tube, { code: a.tube_code });
      const buttons = fixes(a).map(([key, fn]) => {
        const button = el("button", { type: "button", class: `btn fix fix-${key}`, textContent: T[`fix_${key}`] });
        button.addEventListener("click", fn);
        return button;
      });
      return el("li", { class: "problem", "data-client-id": a.client_id, "data-code": error.code || "" },
        el("p", { class: "problem-title" }, el("strong", { textContent: title }),
          ` · ${fmt(T.problem_tube, { code: a.tube_code })}`),
        el("p", { class: "problem-reason", textContent: (error.message || error.code || String(a.result?.status))
          + (error.previous ? ` (${error.previous.site_name} ${new Date(error.previous.sampled_at).toLocaleString()})` : "") }),
        el("div", { class: "problem-fixes" }, ...buttons));
    });
    this.$("#problem-list").replaceChildren(...items);
    this.$("#problems").hidden = !items.length;
  }

  recent(field) {
    const T = this.T;
    this.$("#recent").replaceChildren(...field.recentTubes(5).map((tube) => {
      const pending = field.pendingFor(tube.code);
      const state = tube.state === "open" ? T.open_state : tube.state === "sealed" ? T.sealed_state : T.state_failed;
      return el("li", { class: `recent-tube recent-${tube.state}`, "data-code": tube.code },
        el("span", { class: "tube-code", textContent: tube.code }),
        ` ${field.count(tube.code)}/${tube.capacity} · ${state}`,
        pending ? el("span", { class: "pending-some", textContent: ` · ${fmt(T.pending, { n: pending })}` }) : null);
    }));
  }
}
