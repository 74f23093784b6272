{% autoescape off %}// wagtail-offline: the service worker of this site. The configuration is the site's;
// the code, imported below, is the same for every site and changes only with the plugin.
self.WAGTAIL_OFFLINE_CONFIG = {{ config }};
importScripts("{{ worker_code_url }}");
{% endautoescape %}
