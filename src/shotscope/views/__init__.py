"""What a film looks like on a page, for the web app and each film's report.html alike: the charts
(``charts``: strips, shares, lengths, axes, as SVG and CSS), the templates and their Jinja2
environment (``templating``), and the static CSS and script."""
