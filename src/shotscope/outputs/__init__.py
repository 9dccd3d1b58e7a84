"""Outputs of an analysed film: shots.csv/json, EDL, OTIO and FCP XML (``writers``), report.html
(``report``), and playable proxies of films a browser cannot play (``proxies``)."""
