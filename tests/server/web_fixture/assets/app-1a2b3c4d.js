document.getElementById("app").textContent = "fixture app \u00e9";
