/* Signalement maps (Leaflet, OpenStreetMap tiles). Progressive enhancement only: every
   page works without this script (the list is the accessible alternative to the map, the
   report form takes an address). No inline script: CSP "script-src 'self'". */
(function () {
  "use strict";
  if (typeof L === "undefined") { return; }

  var TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png";
  var ATTRIBUTION = '&copy; <a href="https://www.openstreetmap.org/copyright">les contributeurs OpenStreetMap</a>';

  function number(value, fallback) {
    var parsed = parseFloat(value);
    return isFinite(parsed) ? parsed : fallback;
  }

  function makeMap(element) {
    element.hidden = false;
    var map = L.map(element, {
      zoomControl: false,
      attributionControl: false
    }).setView(
      [number(element.dataset.lat, 46.6), number(element.dataset.lon, 2.4)],
      number(element.dataset.zoom, 13)
    );
    L.control.zoom({
      zoomInTitle: element.dataset.zoomIn || "Zoomer",
      zoomOutTitle: element.dataset.zoomOut || "Dézoomer"
    }).addTo(map);
    L.control.attribution({ prefix: false }).addAttribution(ATTRIBUTION).addTo(map);
    L.tileLayer(TILES, { maxZoom: 19 }).addTo(map);
    return map;
  }

  /* The public map: one marker per item of the list that carries a point. */
  function showReports(element) {
    var list = document.querySelector(element.dataset.list);
    if (!list) { return; }
    var items = list.querySelectorAll("[data-lat][data-lon]");
    var map = makeMap(element);
    var bounds = [];
    Array.prototype.forEach.call(items, function (item) {
      var lat = number(item.dataset.lat, null), lon = number(item.dataset.lon, null);
      if (lat === null || lon === null) { return; }
      var link = item.querySelector("a");
      var marker = L.marker([lat, lon], {
        alt: item.dataset.label || (link ? link.textContent : ""),
        title: item.dataset.label || ""
      }).addTo(map);
      if (link) {
        var anchor = document.createElement("a");
        anchor.href = link.getAttribute("href");
        anchor.className = "problem-popup-link";
        anchor.textContent = item.dataset.label || link.textContent;
        marker.bindPopup(anchor);
      }
      bounds.push([lat, lon]);
    });
    if (bounds.length > 1) { map.fitBounds(bounds, { padding: [24, 24], maxZoom: 16 }); }
    else if (bounds.length === 1) { map.setView(bounds[0], 16); }
  }

  /* The report form: a click (or "use my position") sets the point in the hidden fields. */
  function pickPoint(element) {
    var form = element.closest("form");
    var lat = form.querySelector("input[name=latitude]");
    var lon = form.querySelector("input[name=longitude]");
    var status = document.getElementById(element.dataset.status);
    var clear = document.getElementById(element.dataset.clear);
    var locate = document.getElementById(element.dataset.locate);
    var help = document.getElementById(element.dataset.help);
    if (help) { help.hidden = false; }
    var map = makeMap(element);
    var marker = null;

    function set(latlng, zoom) {
      lat.value = latlng.lat.toFixed(6);
      lon.value = latlng.lng.toFixed(6);
      if (marker) { marker.setLatLng(latlng); }
      else { marker = L.marker(latlng, { alt: element.dataset.markerLabel || "" }).addTo(map); }
      if (zoom) { map.setView(latlng, zoom); }
      if (status) {
        status.textContent = (element.dataset.chosen || "") + " " +
          latlng.lat.toFixed(5).replace(".", ",") + " ; " + latlng.lng.toFixed(5).replace(".", ",");
      }
      if (clear) { clear.hidden = false; }
    }

    if (lat.value && lon.value) {
      set(L.latLng(number(lat.value, 0), number(lon.value, 0)), 16);
    }
    map.on("click", function (event) { set(event.latlng); });
    if (clear) {
      clear.addEventListener("click", function () {
        lat.value = ""; lon.value = "";
        if (marker) { map.removeLayer(marker); marker = null; }
        if (status) { status.textContent = element.dataset.none || ""; }
        clear.hidden = true;
      });
    }
    if (locate && navigator.geolocation) {
      locate.hidden = false;
      locate.addEventListener("click", function () {
        navigator.geolocation.getCurrentPosition(function (position) {
          set(L.latLng(position.coords.latitude, position.coords.longitude), 17);
        }, function () {
          if (status) { status.textContent = element.dataset.locateFailed || ""; }
        }, { timeout: 10000 });
      });
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("[data-problem-map]"), function (el) {
      if (el.dataset.problemMap === "pick") { pickPoint(el); } else { showReports(el); }
    });
  });
}());
