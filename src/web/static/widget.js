/*! citypeers widget — shows peer consultants from citypeers on any page. No dependencies.
 *
 *   <script src="https://citypeers.example/widget.js" defer></script>
 *   <div class="citypeers-widget" data-mode="match" data-challenge="…" data-topics="flood-risk,water"
 *        data-languages="fr" data-regions="western-africa" data-country="SN" data-city="Dakar"
 *        data-limit="5" data-lang="fr"></div>
 *
 * data-mode      "match" (POST /v1/match) or "search" (GET /v1/experts); default: match when a
 *                challenge or topics are given, else search
 * data-challenge, data-topics, data-languages, data-regions, data-city, data-country
 *                match: the request (lists comma-separated; city + country are the requester's own)
 * data-q, data-topics, data-languages, data-regions, data-country, data-available
 *                search: query and filters (lists comma-separated)
 * data-limit     number of results (default 5)
 * data-lang      en|de|fr|es|pt|ar: labels and match reasons (default: the page's lang);
 *                Arabic is laid out right to left
 * data-profile-url   link template, e.g. "https://portal.example/experts/{id}"
 *                    (default <origin>/experts/{id}?lang=…, the public profile page);
 *                    only http(s) URLs are used
 * data-link-target   _self|_blank|_top|_parent for the profile links
 * data-heading-level 2–6 for the names (default 3)
 *
 * Labels come from <origin>/i18n/{lang}.json (English is built in as a fallback).
 * Results live in a Shadow DOM. Theme with CSS custom properties on the element:
 * --citypeers-accent, --citypeers-text, --citypeers-muted, --citypeers-bg, --citypeers-border,
 * --citypeers-font. Elements added later are picked up; changed data-* attributes re-render.
 * window.CitypeersWidget.render(element) renders one element by hand (returns a Promise).
 */
(function () {
  'use strict';
  if (window.CitypeersWidget && window.CitypeersWidget.render) return;

  var SELECTOR = '.citypeers-widget';
  var LANGS = ['en', 'de', 'fr', 'es', 'pt', 'ar'];
  var RTL = { ar: true };
  // English is built in; the other languages load from the server's strings files.
  var EN = { loading: 'Loading peer consultants…', empty: 'No matching peer consultants found.', error: 'The peer consultants could not be loaded.', retry: 'Try again', profile: 'View profile', found: { one: '{n} peer consultant', other: '{n} peer consultants' }, by: 'Results from citypeers' };
  var strings = { en: Promise.resolve(EN) };
  var ATTRS = ['class', 'data-mode', 'data-challenge', 'data-topics', 'data-languages', 'data-regions', 'data-country',
    'data-city', 'data-q', 'data-limit', 'data-lang', 'data-available', 'data-profile-url', 'data-link-target', 'data-heading-level'];

  // The API origin is the origin this script was loaded from.
  var ORIGIN = (function () {
    var script = document.currentScript;
    if (!script) {
      var all = document.querySelectorAll('script[src]');
      for (var i = all.length - 1; i >= 0; i--) {
        if (/\/widget\.js(?:[?#]|$)/.test(all[i].src)) { script = all[i]; break; }
      }
    }
    try { return new URL(script.src, location.href).origin; } catch (e) { return location.origin; }
  })();

  var CSS = ':host{all:initial;display:block}:host([hidden]){display:none}' +
    '.w{all:initial;display:block;font:var(--citypeers-font,14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","Noto Sans Arabic",Arial,sans-serif);color:var(--citypeers-text,#1b1f24);text-align:start;overflow-wrap:break-word}*{box-sizing:border-box}' +
    '.sr{position:absolute;width:1px;height:1px;margin:-1px;padding:0;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap;border:0}' +
    '.st{margin:0 0 8px;color:var(--citypeers-muted,#4a5361)}.err{color:#b3261e}' +
    'ul.l{list-style:none;margin:0;padding:0;display:grid;gap:10px;grid-template-columns:repeat(auto-fill,minmax(min(100%,240px),1fr))}' +
    '.c{background:var(--citypeers-bg,#fff);border:1px solid var(--citypeers-border,#d5dae1);border-radius:8px;padding:12px 14px;display:flex;flex-direction:column;gap:4px;height:100%}' +
    '.n{margin:0;font-size:1.08em;font-weight:700;line-height:1.3;color:inherit}' +
    '.m{margin:0;color:var(--citypeers-muted,#4a5361)}' +
    '.r{margin:4px 0 0;padding-inline-start:1.2em}.r li{margin:1px 0}' +
    '.h{margin:4px 0 0}mark{background:#ffe58f;color:#1b1f24;border-radius:2px;padding:0 1px}' +
    'a{color:var(--citypeers-accent,#0b5cad)}a:focus-visible,button:focus-visible{outline:3px solid var(--citypeers-accent,#0b5cad);outline-offset:2px}' +
    '.p{margin-top:auto;padding-top:6px;font-weight:600}' +
    'button{font:inherit;cursor:pointer;margin-inline-start:8px;padding:4px 12px;border:1px solid currentColor;border-radius:6px;background:transparent;color:var(--citypeers-accent,#0b5cad)}' +
    '.f{margin:8px 0 0;font-size:.85em;color:var(--citypeers-muted,#4a5361)}' +
    '@media (forced-colors:active){mark{forced-color-adjust:none}}';

  var states = new WeakMap(); // element -> { key, ctrl }

  // The widget's labels in `lang` (a Promise of {key: text}; English where anything fails).
  function load(lang) {
    if (!strings[lang]) {
      strings[lang] = fetch(ORIGIN + '/i18n/' + lang + '.json', { credentials: 'omit' })
        .then(function (res) { return res.ok ? res.json() : {}; })
        .then(function (all) { return all && all.widget ? all.widget : EN; }, function () { return EN; });
    }
    return strings[lang];
  }
  function text(dict, lang, key, n) {
    var v = dict[key] || EN[key];
    if (v && typeof v === 'object') {
      var form = 'other';
      try { form = new Intl.PluralRules(lang).select(n); } catch (e) { /* default */ }
      var count = String(n);
      try { count = new Intl.NumberFormat(lang).format(n); } catch (e) { /* plain digits */ }
      v = String(v[form] || v.other).replace('{n}', count);
    }
    return v;
  }
  function list(value) {
    return String(value || '').split(',').map(function (s) { return s.trim(); }).filter(Boolean);
  }
  // Free text (names, places, reasons) keeps its own direction inside the card's direction.
  function auto(tag, cls, content) {
    var node = el(tag, cls);
    node.appendChild(el('span', null, content)).dir = 'auto';
    return node;
  }
  // The shadow root's styles: a constructed stylesheet where the browser has them (pages with a
  // strict Content-Security-Policy block <style> elements, not CSSOM), else a <style> element.
  var sheet = null;
  function styles(root) {
    try {
      if (!sheet) { sheet = new CSSStyleSheet(); sheet.replaceSync(CSS); }
      root.adoptedStyleSheets = [sheet];
      return [];
    } catch (e) {
      return [el('style', null, CSS)];
    }
  }
  function el(tag, cls, content) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (content != null) node.textContent = String(content);
    return node;
  }

  function options(host) {
    var d = host.dataset;
    var pageLang = (host.closest('[lang]') || document.documentElement).getAttribute('lang') || '';
    var lang = String(d.lang || pageLang).slice(0, 2).toLowerCase();
    if (LANGS.indexOf(lang) < 0) lang = 'en';
    var topics = list(d.topics);
    var mode = d.mode === 'search' || d.mode === 'match' ? d.mode : (d.challenge || topics.length ? 'match' : 'search');
    var limit = parseInt(d.limit, 10);
    limit = isFinite(limit) ? Math.max(1, Math.min(limit, mode === 'match' ? 50 : 100)) : 5;
    var level = parseInt(d.headingLevel, 10);
    return {
      mode: mode, lang: lang, limit: limit, topics: topics,
      challenge: String(d.challenge || '').trim(), q: String(d.q || '').trim(),
      languages: list(d.languages), regions: list(d.regions), countries: list(d.country),
      city: String(d.city || '').trim(), available: d.available,
      profileUrl: d.profileUrl || '',
      target: ['_self', '_blank', '_top', '_parent'].indexOf(d.linkTarget) >= 0 ? d.linkTarget : '',
      heading: level >= 2 && level <= 6 ? level : 3
    };
  }

  function request(o, signal) {
    var init = { signal: signal, credentials: 'omit', headers: { Accept: 'application/json', 'Accept-Language': o.lang } };
    var url;
    if (o.mode === 'match') {
      var body = { limit: o.limit, lang: o.lang };
      if (o.challenge) body.challenge = o.challenge;
      if (o.topics.length) body.topics = o.topics;
      if (o.languages.length) body.languages = o.languages;
      if (o.regions.length) body.regions = o.regions;
      if (o.countries.length) body.country = o.countries[0];
      if (o.city) body.city = o.city;
      url = ORIGIN + '/v1/match';
      init.method = 'POST';
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    } else {
      var p = new URLSearchParams();
      if (o.q) p.set('q', o.q);
      o.topics.forEach(function (v) { p.append('topic', v); });
      o.regions.forEach(function (v) { p.append('region', v); });
      o.countries.forEach(function (v) { p.append('country', v); });
      o.languages.forEach(function (v) { p.append('language', v); });
      if (o.available === 'true' || o.available === 'false') p.set('available', o.available);
      p.set('limit', String(o.limit));
      url = ORIGIN + '/v1/experts?' + p.toString();
    }
    return fetch(url, init).then(function (res) {
      return res.json().catch(function () { return null; }).then(function (data) {
        if (!res.ok) {
          var e = new Error((data && data.error && data.error.message) || ('HTTP ' + res.status));
          e.status = res.status;
          throw e;
        }
        return o.mode === 'match'
          ? (data.matches || []).map(function (m) { return { expert: m.expert || {}, reasons: m.reasons || [] }; })
          : (data.hits || []).map(function (h) { return { expert: h.expert || {}, highlights: h.highlights || {} }; });
      });
    });
  }

  // Highlights hold <mark> around escaped text; keep only text and <mark>.
  function marks(html) {
    var frag = document.createDocumentFragment();
    var doc = new DOMParser().parseFromString('<!doctype html><body>' + String(html), 'text/html');
    (function copy(from, to) {
      Array.prototype.forEach.call(from.childNodes, function (node) {
        if (node.nodeType === 3) to.appendChild(document.createTextNode(node.data));
        else if (node.nodeType === 1 && node.localName === 'mark') copy(node, to.appendChild(document.createElement('mark')));
        else if (node.nodeType === 1 && !/^(script|style|template|noscript|iframe|object|svg|math|textarea|title)$/.test(node.localName)) copy(node, to);
      });
    })(doc.body, frag);
    return frag;
  }

  function profileHref(o, id) {
    var raw = o.profileUrl ? o.profileUrl.split('{id}').join(encodeURIComponent(id))
      : ORIGIN + '/experts/' + encodeURIComponent(id) + '?lang=' + encodeURIComponent(o.lang);
    try {
      var u = new URL(raw, location.href);
      return u.protocol === 'https:' || u.protocol === 'http:' ? u.href : null;
    } catch (e) { return null; }
  }

  function countryName(code, lang) {
    try { return new Intl.DisplayNames([lang], { type: 'region' }).of(code) || code; } catch (e) { return code; }
  }

  function card(item, o, dict) {
    var e = item.expert;
    var li = el('li');
    var c = li.appendChild(el('article', 'c'));
    var name = c.appendChild(auto('h' + o.heading, 'n', e.name || e.id));
    name.id = 'n' + Math.random().toString(36).slice(2);
    c.setAttribute('aria-labelledby', name.id);
    var role = [e.position, e.organisation].filter(Boolean).join(' · ');
    if (role) c.appendChild(auto('p', 'm', role));
    if (e.city || e.country) {
      var place = c.appendChild(auto('p', 'm', e.city || ''));
      if (e.city && e.country) place.appendChild(document.createTextNode(o.lang === 'ar' ? '، ' : ', '));
      if (e.country) place.appendChild(el('span', null, countryName(e.country, o.lang)));
    }
    if (item.reasons && item.reasons.length) {
      var ul = c.appendChild(el('ul', 'r'));
      item.reasons.slice(0, 3).forEach(function (r) { ul.appendChild(auto('li', null, r)); });
    } else if (item.highlights) {
      var keys = Object.keys(item.highlights);
      var hl = c.appendChild(el('p', 'h'));
      var hlText = hl.appendChild(el('span'));
      hlText.dir = 'auto';
      if (keys.length) hlText.appendChild(marks(item.highlights[keys.indexOf('expertise') >= 0 ? 'expertise' : keys[0]]));
      else if (e.expertise) hlText.textContent = e.expertise.length > 200 ? e.expertise.slice(0, 200).replace(/\s+\S*$/, '') + '…' : e.expertise;
      else c.removeChild(hl);
    }
    var href = e.id ? profileHref(o, e.id) : null;
    if (href) {
      var a = c.appendChild(el('a', 'p', text(dict, o.lang, 'profile')));
      a.href = href;
      a.appendChild(el('span', 'sr', ': ' + (e.name || e.id)));
      if (o.target) a.target = o.target;
      if (o.target === '_blank') a.rel = 'noopener noreferrer';
    }
    return li;
  }

  function render(host) {
    if (!host || host.nodeType !== 1) return Promise.resolve();
    var o = options(host);
    var state = states.get(host) || {};
    if (state.ctrl) state.ctrl.abort();
    var ctrl = typeof AbortController === 'function' ? new AbortController() : null;
    states.set(host, { key: JSON.stringify(o), ctrl: ctrl });

    var root = host.shadowRoot;
    if (!root) {
      try { root = host.attachShadow({ mode: 'open' }); } catch (e) { console.warn('citypeers widget: cannot render into', host, e); return Promise.resolve(); }
    }
    var status = el('p', 'st', '…');
    status.setAttribute('role', 'status');
    status.setAttribute('aria-live', 'polite');
    var box = el('div', 'w');
    box.setAttribute('lang', o.lang);
    box.setAttribute('dir', RTL[o.lang] ? 'rtl' : 'ltr');
    box.setAttribute('aria-busy', 'true');
    box.appendChild(status);
    root.replaceChildren.apply(root, styles(root).concat([box]));

    var dict = EN;
    var labels = load(o.lang).then(function (loaded) {
      dict = loaded;
      if (states.get(host).ctrl === ctrl && box.getAttribute('aria-busy')) status.textContent = text(dict, o.lang, 'loading');
    });
    return Promise.all([request(o, ctrl && ctrl.signal), labels]).then(function (done) {
      var items = done[0];
      if (states.get(host).ctrl !== ctrl) return;
      box.removeAttribute('aria-busy');
      if (!items.length) { status.textContent = text(dict, o.lang, 'empty'); return; }
      status.textContent = text(dict, o.lang, 'found', items.length);
      status.className = 'sr';
      var ul = el('ul', 'l');
      items.forEach(function (item) { ul.appendChild(card(item, o, dict)); });
      box.appendChild(ul);
      var foot = box.appendChild(el('p', 'f'));
      var by = foot.appendChild(el('a', null, text(dict, o.lang, 'by')));
      by.href = ORIGIN + '/?lang=' + encodeURIComponent(o.lang);
      if (o.target) by.target = o.target;
      if (o.target === '_blank') by.rel = 'noopener noreferrer';
    }, function (err) {
      if (err && err.name === 'AbortError') return;
      if (states.get(host).ctrl !== ctrl) return;
      box.removeAttribute('aria-busy');
      status.className = 'st err';
      return labels.then(function () {
        if (states.get(host).ctrl !== ctrl) return;
        status.textContent = text(dict, o.lang, 'error') + ' ';
        var retry = el('button', null, text(dict, o.lang, 'retry'));
        retry.type = 'button';
        retry.addEventListener('click', function () { render(host); });
        box.appendChild(retry);
        if (window.console) console.warn('citypeers widget:', err && err.message);
      });
    });
  }

  function renderIfChanged(host) {
    var state = states.get(host);
    if (!state || state.key !== JSON.stringify(options(host))) render(host);
  }
  function scan(node) {
    if (node.nodeType !== 1) return;
    if (node.matches(SELECTOR)) renderIfChanged(node);
    var found = node.querySelectorAll(SELECTOR);
    for (var i = 0; i < found.length; i++) renderIfChanged(found[i]);
  }

  function start() {
    scan(document.documentElement);
    if (typeof MutationObserver !== 'function') return;
    new MutationObserver(function (records) {
      records.forEach(function (r) {
        if (r.type === 'childList') Array.prototype.forEach.call(r.addedNodes, scan);
        else if (r.target.matches && r.target.matches(SELECTOR)) renderIfChanged(r.target);
      });
    }).observe(document.documentElement, { childList: true, subtree: true, attributes: true, attributeFilter: ATTRS });
  }

  window.CitypeersWidget = { render: render, origin: ORIGIN, version: '2' };
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
