"use strict";
// The simulator page: pick a persona, chat privately or in a group, see the bot's replies
// (text, cards, images, files) as a chat app would show them, and the messages the bot sends
// on its own (campaign messages), fetched from /simulator/inbox every INBOX_MS. All logic lives
// on the server; this file only draws.

(function () {
  const STAGES = {
    prospect: "潜在客户", new: "新客户", growing: "成长客户",
    mature: "成熟客户", declining: "衰退客户", churned: "流失客户",
  };
  const ROLES = { agent: "专员", manager: "经理", admin: "管理员" };
  const $ = (id) => document.getElementById(id);
  const personaSelect = $("persona");
  const messages = $("messages");
  const form = $("composer");
  const input = $("text");
  const sendButton = $("send");
  const conversations = new Map(); // "persona|chat" → list of rendered <li> nodes
  const unread = new Map(); // persona → { label, count } of pushed messages not yet seen
  const INBOX_MS = 1500;
  let firstCustomer = null;
  let inboxAfter = 0; // the number of the last pushed message drawn
  let customersGroup = null;

  function chatKind() {
    return document.querySelector("input[name=chat]:checked").value;
  }

  function key() {
    return personaSelect.value + "|" + chatKind();
  }

  function escapeHtml(text) {
    return text.replace(/[&<>"']/g, (c) => ({
      "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;",
    })[c]);
  }

  function linkify(text) {
    return escapeHtml(text).replace(
      /https?:\/\/[^\s<>"'，。）]+/g,
      (url) => '<a href="' + url + '" target="_blank" rel="noopener">' + url + "</a>",
    );
  }

  function bubble(side, build) {
    const li = document.createElement("li");
    li.className = "msg " + side;
    const div = document.createElement("div");
    div.className = "bubble";
    build(div);
    li.appendChild(div);
    return li;
  }

  function textNode(side, text) {
    return bubble(side, (div) => { div.innerHTML = linkify(text); });
  }

  function image(src, caption) {
    return bubble("bot", (div) => {
      const img = document.createElement("img");
      img.src = src;
      img.alt = caption || "图片";
      div.appendChild(img);
      if (caption) {
        const p = document.createElement("div");
        p.className = "caption";
        p.textContent = caption;
        div.appendChild(p);
      }
    });
  }

  function file(reply) {
    return bubble("bot", (div) => {
      if (reply.caption) {
        const p = document.createElement("div");
        p.textContent = reply.caption;
        div.appendChild(p);
      }
      const a = document.createElement("a");
      a.className = "file";
      a.href = reply.href;
      a.download = reply.name;
      a.textContent = "📎 " + reply.name;
      div.appendChild(a);
    });
  }

  function card(reply) {
    return bubble("bot", (div) => {
      div.classList.add("card");
      const h3 = document.createElement("h3");
      h3.textContent = reply.title;
      div.appendChild(h3);
      if (reply.fields.length) {
        const table = document.createElement("table");
        for (const [label, value] of reply.fields) {
          const tr = table.insertRow();
          tr.insertCell().textContent = label;
          tr.insertCell().textContent = value;
        }
        div.appendChild(table);
      }
      if (reply.body) {
        const body = document.createElement("div");
        body.className = "body";
        body.innerHTML = linkify(reply.body);
        div.appendChild(body);
      }
      if (reply.image) {
        const img = document.createElement("img");
        img.src = reply.image;
        img.alt = reply.title;
        div.appendChild(img);
      }
      if (reply.footer) {
        const footer = document.createElement("div");
        footer.className = "footer";
        footer.textContent = reply.footer;
        div.appendChild(footer);
      }
    });
  }

  function render(reply) {
    if (reply.type === "text") return textNode("bot", reply.text);
    if (reply.type === "card") return card(reply);
    if (reply.type === "image") return image(reply.src, reply.caption);
    if (reply.type === "file") return file(reply);
    return textNode("system", "（无法显示的回复）");
  }

  function addTo(conversation, node) {
    if (!conversations.has(conversation)) conversations.set(conversation, []);
    conversations.get(conversation).push(node);
    if (conversation !== key()) return false;
    messages.appendChild(node);
    messages.scrollTop = messages.scrollHeight;
    return true;
  }

  function add(node) {
    addTo(key(), node);
  }

  function redraw() {
    messages.replaceChildren(...(conversations.get(key()) || []));
    const group = chatKind() === "group";
    $("mention-row").hidden = !group;
    $("chat-rule").textContent = group
      ? "群聊里机器人只回答 @Fission 或以“/”开头的消息。"
      : "私聊时命令前的“/”可以省略。";
    const option = personaSelect.selectedOptions[0];
    $("chat-title").textContent = (group ? "群聊 · 客户交流群" : "私聊 · Fission") +
      (option ? " ｜ 我是 " + option.dataset.label : "");
    const staff = personaSelect.value.startsWith("staff:");
    const manager = staff && option && option.dataset.role === "manager";
    $("quick-customer").hidden = staff;
    $("quick-staff").hidden = !staff;
    staffButtons(manager);
    $("persona-note").textContent = !staff
      ? "客户身份：可以领取邀请链接和海报、查看积分和优惠券；活动推送的消息也会出现在这里。"
      : manager
        ? "经理身份：可以查询客户、排行和漏斗，预览和运行召回活动（客户信息已脱敏）。"
        : "员工身份：可以查询客户、排行和漏斗（客户信息已脱敏）。";
    if (!group && unread.delete(personaSelect.value)) drawUnread();
  }

  // Personas with pushed messages not yet seen: a button each, to switch to them.
  function drawUnread() {
    const box = $("inbox");
    box.replaceChildren(...[...unread].map(([persona, item]) => {
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = item.label + " · " + item.count + " 条新消息";
      b.addEventListener("click", () => {
        personaSelect.value = persona;
        document.querySelector("input[name=chat][value=private]").checked = true;
        redraw();
      });
      return b;
    }));
    $("inbox-row").hidden = unread.size === 0;
  }

  function customerLabel(c) {
    return c.name + "（" + (STAGES[c.stage] || c.stage || "客户") + "）";
  }

  function ensurePersona(c) {
    if (!customersGroup || personaSelect.querySelector('option[value="' + c.id + '"]')) return;
    const label = customerLabel(c);
    customersGroup.appendChild(option(c.id, label, label + " · " + c.external_id));
  }

  async function pollInbox() {
    try {
      const response = await fetch("/simulator/inbox?after=" + inboxAfter);
      if (!response.ok) return;
      const data = await response.json();
      if (data.last < inboxAfter) { inboxAfter = 0; return; } // the server was restarted
      for (const m of data.messages) {
        ensurePersona(m.persona);
        const node = render(m.reply);
        node.classList.add("push");
        if (!addTo(m.persona.id + "|" + m.chat, node)) {
          const item = unread.get(m.persona.id) || { label: customerLabel(m.persona), count: 0 };
          item.count += 1;
          unread.set(m.persona.id, item);
        }
      }
      inboxAfter = data.last;
      if (data.messages.length) drawUnread();
    } catch (err) {
      // The server may be restarting; the next poll tries again.
    }
  }

  async function send(text) {
    if (!text.trim() || !personaSelect.value) return;
    const group = chatKind() === "group";
    const outgoing = group && $("mention").checked && !text.trim().startsWith("/")
      ? "@Fission " + text : text;
    add(textNode("me", outgoing));
    sendButton.disabled = true;
    try {
      const response = await fetch("/simulator/messages", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ persona: personaSelect.value, chat: chatKind(), text: outgoing }),
      });
      const data = await response.json();
      if (!response.ok) {
        add(textNode("system", "出错了：" + ((data.error && data.error.message) || response.status)));
      } else if (!data.replies.length) {
        add(textNode("system", "（机器人没有回应：群里的消息需要 @Fission 或以“/”开头）"));
      } else {
        data.replies.forEach((reply) => add(render(reply)));
      }
    } catch (err) {
      add(textNode("system", "网络错误：" + err));
    } finally {
      sendButton.disabled = false;
      input.focus();
    }
  }

  function option(value, label, text, role) {
    const opt = document.createElement("option");
    opt.value = value;
    opt.textContent = text;
    opt.dataset.label = label;
    if (role) opt.dataset.role = role;
    return opt;
  }

  function staffButtons(manager) {
    const box = $("quick-staff");
    const target = firstCustomer ? firstCustomer.external_id : "张";
    const items = [
      ["客户 " + target, "/customer " + target],
      ["衰退客户", "/stage 衰退"],
      ["邀请排行", "/top"],
      ["裂变漏斗", "/funnel"],
      ["记录跟进", "/followup " + target + " 电话回访，客户有续费意向 下周三"],
      ["帮助", "/help"],
    ];
    if (manager) {
      items.splice(4, 0,
        ["预览活动", "/活动 预览 衰退客户挽回"],
        ["运行活动", "/活动 运行 衰退客户挽回"],
        ["活动报告", "/活动 报告 衰退客户挽回"],
      );
    }
    box.replaceChildren(...items.map(([label, text]) => {
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = label;
      b.dataset.text = text;
      return b;
    }));
  }

  async function loadPersonas() {
    const response = await fetch("/simulator/personas");
    const data = await response.json();
    const customers = document.createElement("optgroup");
    customers.label = "客户";
    for (const c of data.customers) {
      const label = customerLabel(c);
      customers.appendChild(option(c.id, label, label + " · " + c.external_id));
    }
    const visitor = "visitor:" + Math.random().toString(36).slice(2, 10);
    customers.appendChild(option(visitor, "新访客", "新访客（第一次来）"));
    const staff = document.createElement("optgroup");
    staff.label = "员工";
    for (const s of data.staff) {
      const label = s.name + "（" + (ROLES[s.role] || s.role) + "）";
      staff.appendChild(option(s.id, label, label, s.role));
    }
    personaSelect.replaceChildren(customers, staff);
    customersGroup = customers;
    // The staff shortcuts query a customer with a story to tell: declining first.
    const order = ["declining", "growing", "mature", "new", "churned", "prospect"];
    firstCustomer = data.customers.slice().sort(
      (a, b) => order.indexOf(a.stage) - order.indexOf(b.stage),
    )[0] || null;
    redraw();
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value;
    input.value = "";
    send(text);
  });
  document.querySelectorAll(".quick").forEach((box) => box.addEventListener("click", (event) => {
    const text = event.target.dataset && event.target.dataset.text;
    if (text) send(text);
  }));
  personaSelect.addEventListener("change", redraw);
  document.querySelectorAll("input[name=chat]").forEach((r) => r.addEventListener("change", redraw));
  loadPersonas()
    .then(() => {
      pollInbox();
      setInterval(pollInbox, INBOX_MS);
    })
    .catch((err) => add(textNode("system", "加载身份失败：" + err)));
})();
