// The eStart GraphiQL page: a login box above GraphiQL. Logging in puts the token into the
// request headers and reloads GraphiQL, so that it fetches the schema (anonymous introspection
// is refused) and offers autocomplete. The token stays in this page's memory only.
(function () {
  "use strict";
  var url = window.location.href.split(/[?#]/)[0];
  var LOGIN =
    "mutation Login($u: String!, $p: String!) { login(username: $u, password: $p) " +
    "{ token expiresAt user { username roles { role setting { code } } } } }";
  var EXAMPLE =
    "# Log in above, then press the run button (or Ctrl-Enter).\n" +
    "# Ctrl-Space completes names; the Docs button shows the schema.\n" +
    "{\n  me {\n    username\n    roles { role setting { code name } }\n  }\n  settings { code name }\n}\n";
  var token = null;
  var generation = 0;
  var form = document.getElementById("estart-login");
  var status = document.getElementById("estart-status");
  var logout = document.getElementById("estart-logout-button");

  function say(text, isError) {
    status.textContent = text;
    status.className = isError ? "estart-error" : "";
  }

  function post(body, headers) {
    return fetch(url, {
      method: "POST",
      headers: Object.assign({ "content-type": "application/json", accept: "application/json" }, headers || {}),
      body: JSON.stringify(body),
    }).then(function (response) {
      return response.json();
    });
  }

  function authorization() {
    return token ? { Authorization: "Bearer " + token } : {};
  }

  // GraphiQL's requests, the schema's included: the headers tab's headers, or the login's token.
  function fetcher(params, options) {
    var headers = Object.assign({}, authorization(), (options && options.headers) || {});
    return post(params, headers).then(function (result) {
      if (result && result.data && result.data.__schema) {
        document.body.setAttribute("data-schema", "loaded"); // autocomplete can start
      }
      var errors = (result && result.errors) || [];
      for (var i = 0; i < errors.length; i++) {
        var extensions = errors[i].extensions || {};
        if (extensions.code === "UNAUTHENTICATED" && extensions.reason) {
          say("The token is " + extensions.reason.toLowerCase() + ": log in again.", true);
        }
      }
      return result;
    });
  }

  function render() {
    generation += 1;
    document.body.setAttribute("data-schema", "loading");
    var explorer = GraphiQLPluginExplorer.explorerPlugin();
    root.render(
      React.createElement(GraphiQL, {
        key: generation, // a new GraphiQL fetches the schema again, with the new headers
        fetcher: fetcher,
        defaultQuery: EXAMPLE,
        headers: token ? JSON.stringify(authorization(), null, 2) : "",
        plugins: [explorer],
        defaultEditorToolsVisibility: true,
        isHeadersEditorEnabled: true,
        shouldPersistHeaders: false,
        inputValueDeprecation: true,
      })
    );
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var username = document.getElementById("estart-username").value;
    var password = document.getElementById("estart-password");
    say("Logging in…", false);
    post({ query: LOGIN, variables: { u: username, p: password.value } })
      .then(function (result) {
        var login = result.data && result.data.login;
        if (!login) {
          say((result.errors && result.errors[0].message) || "Login failed", true);
          return;
        }
        token = login.token;
        password.value = "";
        logout.hidden = false;
        var roles = login.user.roles.map(function (r) {
          return r.role + " in " + (r.setting ? r.setting.code : "all settings");
        });
        say("Logged in as " + login.user.username + " (" + roles.join(", ") + ") until " + login.expiresAt, false);
        render();
      })
      .catch(function (error) {
        say("Login failed: " + error, true);
      });
  });

  logout.addEventListener("click", function () {
    var headers = authorization();
    token = null;
    logout.hidden = true;
    post({ query: "mutation { logout }" }, headers).finally(function () {
      say("Logged out.", false);
      render();
    });
  });

  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  render();
})();
