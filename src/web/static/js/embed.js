// The iframe page (/embed): turns its query parameters into the widget's data-* options and
// tells the embedding page how tall the content is. A classic script, run before /widget.js.
(function () {
  'use strict';
  var params = new URLSearchParams(location.search);
  var host = document.getElementById('widget');
  var joined = function () {
    var names = Array.prototype.slice.call(arguments);
    return names.reduce(function (all, name) { return all.concat(params.getAll(name)); }, []).join(',');
  };
  var options = {
    mode: params.get('mode'),
    challenge: params.get('challenge'),
    topics: joined('topics', 'topic'),
    languages: joined('languages', 'language'),
    regions: joined('regions', 'region'),
    country: joined('country'),
    city: params.get('city'),
    q: params.get('q'),
    limit: params.get('limit'),
    lang: document.documentElement.lang,
    available: params.get('available'),
    profileUrl: params.get('profile_url') || params.get('profile-url') || params.get('profileUrl'),
    linkTarget: params.get('target') || '_blank',
    headingLevel: params.get('heading_level') || '2'
  };
  Object.keys(options).forEach(function (key) {
    // the widget only ever uses these as text or as checked http(s) links
    if (options[key]) host.dataset[key] = options[key];
  });

  if (window.parent !== window && typeof ResizeObserver === 'function') {
    var last = 0;
    new ResizeObserver(function () {
      var height = Math.ceil(host.getBoundingClientRect().height);
      if (height !== last) {
        last = height;
        window.parent.postMessage({ type: 'citypeers:height', height: height }, '*');
      }
    }).observe(host);
  }
})();
