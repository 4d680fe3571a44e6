// TagStream's leaders' dashboard. Fills the page shell from the JSON API with the page's own
// signed link (exp & sig), then keeps a leader's page current from the server-sent events
// (polling when they fail). Every figure carries data-field and data-value, the API's value.
"use strict";

const LABELS = {
  zh: {
    community: "社区", overview: "全部社区", asOf: "数据截至", figuresAt: "日报时间",
    customers: "顾客", active_30d: "30天活跃", gmv_30d: "30天GMV", orders_7d: "7天订单",
    sleeping_ratio: "沉睡占比", new_customers_30d: "30天新客", users: "用户",
    trend: "近30天趋势", groups: "顾客分层（现在与30天前）", tag: "标签", now: "现在", change: "30天变化",
    vips: "需要关怀的VIP", user: "用户", tier: "等级", lastPaid: "上次付款", usualGap: "平常间隔（天）",
    silentDays: "已沉默（天）", worthWaking: "可唤醒的沉睡顾客", stage: "阶段", coupon: "唤醒券",
    sent: "已发", heldOut: "对照组（未发）", none: "无", topSkus: "7天热销商品", sku: "商品", qty: "数量",
    alerts: "社区预警", noAlerts: "无预警", open: "打开", updating: "数据更新中…", forbidden: "链接无效或已过期",
    lifecycle: "生命周期", prospect: "潜在", new: "新客", active: "活跃", at_risk: "流失风险", sleeping: "沉睡",
    churned: "已流失", platinum: "白金", gold: "黄金", silver: "白银",
    community_sleeping_ratio_high: "沉睡占比过高", vip_churn_risk: "VIP流失风险",
  },
  en: {
    community: "Community", overview: "All communities", asOf: "As of", figuresAt: "Figures of",
    customers: "Customers", active_30d: "Active 30d", gmv_30d: "GMV 30d", orders_7d: "Orders 7d",
    sleeping_ratio: "Sleeping ratio", new_customers_30d: "New customers 30d", users: "Users",
    trend: "Trend, last 30 days", groups: "Customers by stage and tier (now and 30 days ago)", tag: "Tag", now: "Now",
    change: "Change 30d", vips: "VIPs at risk", user: "User", tier: "Tier", lastPaid: "Last paid",
    usualGap: "Usual gap (days)", silentDays: "Silent (days)", worthWaking: "Sleeping customers worth waking",
    stage: "Stage", coupon: "Wake-up coupon", sent: "sent", heldOut: "held out", none: "none",
    topSkus: "Top SKUs, 7 days", sku: "SKU", qty: "Qty", alerts: "Community alerts", noAlerts: "No alerts",
    open: "Open", updating: "Updating…", forbidden: "This link is not valid or has expired",
    lifecycle: "Lifecycle", prospect: "Prospect", new: "New", active: "Active", at_risk: "At risk", sleeping: "Sleeping",
    churned: "Churned", platinum: "Platinum", gold: "Gold", silver: "Silver",
    community_sleeping_ratio_high: "Sleeping ratio high", vip_churn_risk: "VIP churn risk",
  },
};

const params = new URLSearchParams(location.search);
const lang = params.get("lang") === "en" ? "en" : "zh";
const L = (key) => LABELS[lang][key] ?? key;
/** The page's query with only the signed link's parts (for the API), or those and the language (for pages). */
function query(withLang) {
  const kept = new URLSearchParams();
  for (const name of ["exp", "sig"]) if (params.has(name)) kept.set(name, params.get(name));
  if (withLang && lang === "en") kept.set("lang", "en");
  return kept.toString() ? "?" + kept.toString() : "";
}
const link = query(false);
let version = 0;

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) if (value !== undefined && value !== null) node.setAttribute(name, value);
  for (const child of children.flat()) node.append(child instanceof Node ? child : document.createTextNode(String(child ?? "")));
  return node;
}

function svg(tag, attributes = {}, ...children) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

/** A figure: its text for people, and the API's value for machines. */
function figure(field, value, text) {
  return el("span", { class: "figure", "data-field": field, "data-value": value === null ? "null" : String(value) },
    text ?? format(field, value));
}

function format(field, value) {
  if (value === null || value === undefined) return "–";
  if (field.endsWith("sleeping_ratio")) return (value * 100).toFixed(1) + "%";
  if (field.endsWith("gmv_30d")) return "¥" + Number(value).toLocaleString(lang === "zh" ? "zh-CN" : "en-US", { minimumFractionDigits: 2 });
  return String(value);
}

const day = (instant) => (instant ? instant.slice(0, 10) : "–");
const silentDays = (asOf, lastPaid) => (asOf && lastPaid ? Math.floor((Date.parse(asOf) - Date.parse(lastPaid)) / 86400000) : null);

function card(field, value) {
  return el("div", { class: "card" }, el("div", { class: "label" }, L(field.split(".").pop())), el("div", { class: "value" }, figure(field, value)));
}

/** A line chart of one trend series, as inline SVG. */
function sparkline(points, key) {
  const values = points.map((p) => p[key]).filter((v) => typeof v === "number");
  const width = 320, height = 80;
  if (values.length < 2) return el("div", { class: "chart empty" }, "–");
  const lo = Math.min(...values), hi = Math.max(...values), span = hi - lo || 1;
  const xy = values.map((v, i) => `${(i * width / (values.length - 1)).toFixed(1)},${(height - 6 - (v - lo) / span * (height - 12)).toFixed(1)}`);
  return el("figure", { class: "chart", "data-series": key },
    svg("svg", { viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: "none", role: "img", "aria-label": L(key) },
      svg("polyline", { points: xy.join(" "), fill: "none", stroke: "currentColor", "stroke-width": "2" })),
    el("figcaption", {}, `${L(key)}: ${format(key, values[0])} → `, figure("trend.last." + key, values[values.length - 1])));
}

function bars(entries) {
  const max = Math.max(1, ...entries.map((e) => e.qty));
  return el("figure", { class: "bars" }, svg("svg", { viewBox: `0 0 320 ${entries.length * 24}`, role: "img", "aria-label": L("topSkus") },
    ...entries.map((e, i) => svg("rect", { x: "0", y: String(i * 24 + 4), height: "16", width: String(Math.max(2, e.qty / max * 300)), fill: "currentColor" }))),
    el("ol", {}, entries.map((e, i) => el("li", {}, el("span", { "data-field": `figures.top_skus_7d.${i}.sku`, "data-value": e.sku }, e.sku), " × ",
      figure(`figures.top_skus_7d.${i}.qty`, e.qty)))));
}

function table(headers, rows) {
  return el("table", {}, el("thead", {}, el("tr", {}, headers.map((h) => el("th", {}, L(h))))), el("tbody", {}, rows));
}

function renderCommunity(doc) {
  const f = doc.figures ?? {};
  const groups = doc.groups.map((g) => el("section", { class: "group" }, el("h3", {}, L(g.group)),
    table(["tag", "now", "change"], g.tags.map((t) => el("tr", {}, el("td", {}, L(t.tag)),
      el("td", {}, figure(`groups.${g.group}.${t.tag}.now`, t.now)),
      el("td", {}, figure(`groups.${g.group}.${t.tag}.change`, t.change, t.change === null ? "–" : (t.change > 0 ? "+" : "") + t.change)))))));
  const vips = table(["user", "tier", "lastPaid", "usualGap", "silentDays"], doc.vips_at_risk.map((v) => el("tr", {},
    el("td", { "data-field": "vip.user_id", "data-value": v.user_id }, v.user_id), el("td", {}, L(v.tier ?? "none")),
    el("td", {}, day(v.last_paid)), el("td", {}, v.usual_gap_days ?? "–"), el("td", {}, silentDays(doc.as_of, v.last_paid) ?? "–"))));
  const sleeping = table(["user", "stage", "lastPaid", "coupon"], doc.sleeping.customers.map((c) => el("tr", {},
    el("td", { "data-field": "sleeping.user_id", "data-value": c.user_id }, c.user_id), el("td", {}, L(c.stage)), el("td", {}, day(c.last_paid)),
    el("td", {}, c.wake_coupon ? `${L(c.wake_coupon.holdout ? "heldOut" : "sent")} ${day(c.wake_coupon.at)}` : L("none")))));
  return [
    el("header", {}, el("h1", {}, `${L("community")} `, el("span", { "data-field": "community_id", "data-value": doc.community_id }, doc.community_id)),
      el("p", { class: "as-of" }, `${L("asOf")} `, el("span", { "data-field": "as_of", "data-value": doc.as_of ?? "null" }, doc.as_of ?? "–"),
        ` · ${L("figuresAt")} ${day(doc.figures_at)}`)),
    el("section", { class: "cards" }, ["customers", "active_30d", "gmv_30d", "orders_7d", "sleeping_ratio"].map((k) => card("figures." + k, f[k] ?? null)),
      card("new_customers_30d", doc.new_customers_30d), card("users", doc.users)),
    el("section", {}, el("h2", {}, L("trend")), el("div", { class: "charts" }, sparkline(doc.trend, "gmv_30d"), sparkline(doc.trend, "orders_7d"))),
    el("section", {}, el("h2", {}, L("groups")), el("div", { class: "groups" }, groups)),
    el("section", {}, el("h2", {}, L("vips"), " ", figure("vips_at_risk.count", doc.vips_at_risk.length)), vips),
    el("section", {}, el("h2", {}, L("worthWaking")),
      el("p", {}, `${L("sent")}: `, figure("sleeping.wake_coupons_sent", doc.sleeping.wake_coupons_sent),
        ` · ${L("heldOut")}: `, figure("sleeping.wake_coupons_held_out", doc.sleeping.wake_coupons_held_out)), sleeping),
    el("section", {}, el("h2", {}, L("topSkus")), bars(f.top_skus_7d ?? [])),
    el("section", {}, el("h2", {}, L("alerts")), doc.open_alerts.length
      ? el("ul", { class: "alerts" }, doc.open_alerts.map((a) => el("li", { "data-field": "open_alerts", "data-value": a }, L(a))))
      : el("p", {}, L("noAlerts"))),
  ];
}

const COLUMNS = ["community_id", "users", "customers", "active_30d", "gmv_30d", "orders_7d", "sleeping_ratio", "open_alerts", "vips_at_risk"];

function renderOverview(doc) {
  const rows = doc.communities.map((c) => el("tr", { "data-community": c.community_id },
    COLUMNS.map((k) => el("td", { "data-sort": k === "open_alerts" ? c[k].length : (c[k] ?? -1) },
      k === "community_id" ? el("a", { href: `/communities/${encodeURIComponent(c.community_id)}${query(true)}` }, c.community_id)
        : figure(`${c.community_id}.${k}`, k === "open_alerts" ? c[k].length : c[k], k === "open_alerts" ? c[k].map(L).join(", ") || "–" : undefined)))));
  const body = el("tbody", {}, rows);
  const head = el("tr", {}, COLUMNS.map((k, i) => {
    const th = el("th", { tabindex: "0", "data-column": k }, L(k === "community_id" ? "community" : k === "open_alerts" ? "alerts" : k === "vips_at_risk" ? "vips" : k));
    th.addEventListener("click", () => sortBy(body, i, th));
    return th;
  }));
  return [el("header", {}, el("h1", {}, L("overview")), el("p", { class: "as-of" }, `${L("asOf")} ${doc.as_of ?? "–"}`)),
    el("table", { class: "overview" }, el("thead", {}, head), body)];
}

/** Sorts the table by a column: descending first, ascending when clicked again. */
function sortBy(body, column, th) {
  const descending = th.getAttribute("aria-sort") !== "descending";
  for (const other of th.parentNode.children) other.removeAttribute("aria-sort");
  th.setAttribute("aria-sort", descending ? "descending" : "ascending");
  const key = (row) => row.children[column].getAttribute("data-sort");
  const rows = [...body.children].sort((a, b) => {
    const x = key(a), y = key(b), order = isNaN(x) || isNaN(y) ? x.localeCompare(y) : Number(x) - Number(y);
    return descending ? -order : order;
  });
  body.append(...rows);
}

function render(doc) {
  const page = document.body.dataset.page;
  document.documentElement.lang = lang === "en" ? "en" : "zh";
  document.getElementById("app").replaceChildren(...(page === "community" ? renderCommunity(doc) : renderOverview(doc)));
  version += 1;
  document.body.dataset.version = String(version);
  document.body.dataset.asOf = doc.as_of ?? "";
}

function notice(key) {
  document.getElementById("app").replaceChildren(el("p", { class: "notice" }, L(key)));
}

async function load(path) {
  // Another instance answers now (a split run moved the community): the page goes there.
  const response = await fetch(path + link, { cache: "no-store", redirect: "manual" });
  if (response.type === "opaqueredirect") return location.reload();
  if (response.status === 403) return notice("forbidden");
  if (!response.ok) return notice("updating");
  render(await response.json());
}

function follow(community) {
  const api = `/api/v1/communities/${encodeURIComponent(community)}`;
  let failures = 0;
  const events = new EventSource(`${api}/events${link}`);
  events.addEventListener("update", (event) => { failures = 0; render(JSON.parse(event.data)); });
  events.onerror = () => {
    failures += 1;
    if (failures >= 3) {  // no stream: ask every 5 s instead
      events.close();
      setInterval(() => load(api), 5000);
    }
  };
}

document.addEventListener("DOMContentLoaded", () => {
  const community = document.body.dataset.community;
  notice("updating");
  if (community !== undefined) {
    load(`/api/v1/communities/${encodeURIComponent(community)}`).then(() => follow(community));
  } else {
    load("/api/v1/communities");
  }
});
