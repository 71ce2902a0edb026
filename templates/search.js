// The site's offline search (search.html): every week's Pagefind bundle, merged at
// query time; results are shown as text (titles and excerpts never become markup) and
// link to the paper's card on its week page.
const list = document.getElementById("search_results");
const status = document.getElementById("search_status");
const form = document.querySelector("form.search");
const input = form ? form.querySelector("input[name=q]") : null;
const bundles = (list.dataset.bundles || "").split(" ").filter(Boolean);
let engine = null;

function load() {
  if (engine === null) {
    engine = (async () => {
      const base = (b) => new URL(b + "/", document.baseURI).href;
      const first = bundles[bundles.length - 1];
      const pagefind = await import(base(first) + "pagefind.js");
      await pagefind.options({ basePath: base(first), baseUrl: "/" });
      for (const b of bundles.slice(0, -1)) {
        await pagefind.mergeIndex(base(b), { baseUrl: "/" });
      }
      return pagefind;
    })();
  }
  return engine;
}

function text(html) {
  return new DOMParser().parseFromString(html, "text/html").body.textContent || "";
}

async function find(query) {
  list.replaceChildren();
  if (!query.trim() || !bundles.length) {
    status.textContent = bundles.length ? "" : "Nothing to search yet.";
    return;
  }
  status.textContent = "Searching…";
  const pagefind = await load();
  const found = await pagefind.search(query);
  const shown = await Promise.all(found.results.slice(0, 50).map((r) => r.data()));
  const count = found.results.length;
  status.textContent = count === 1 ? "1 paper found" : `${count} papers found`;
  for (const data of shown) {
    const item = document.createElement("li");
    const heading = document.createElement("h3");
    const link = document.createElement("a");
    // Each paper was indexed as WEEK--ID.html: its card is WEEK.html#ID.
    link.href = data.url.replace(/^.*\/([^/]+?)--([^/]+?)\.html$/, "$1.html#$2");
    link.textContent = (data.meta && data.meta.title) || data.url;
    heading.append(link);
    const excerpt = document.createElement("p");
    excerpt.textContent = text(data.excerpt);
    item.append(heading, excerpt);
    list.append(item);
  }
}

if (form && input) {
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const url = new URL(document.location.href);
    url.searchParams.set("q", input.value);
    history.replaceState(null, "", url);
    find(input.value);
  });
  const query = new URLSearchParams(document.location.search).get("q") || "";
  input.value = query;
  if (query) find(query);
}
