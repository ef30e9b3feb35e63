// The eStart GraphiQL page: a login box above GraphiQL. Logging in puts the token into the
// request headers and reloads GraphiQL, so that it fetches the schema (anonymous introspection
// is refused) and offers autocomplete. The token stays in this page's memory only.
(function () {
  "use strict";
  var url = window.location.href.split(/[?#]/)[0];
  var LOGIN =
    "mutation Login($u: String!, $p: String!) { login(username: $u, password: $p) " +
    "{ token expiresAt mustChangePassword user { username roles { role setting { code } } } } }";
  var CHANGE =
    "mutation ChangePassword($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) }";
  var EXAMPLE =
    "# Log in above, then press the run button (or Ctrl-Enter).\n" +
    "# Ctrl-Space completes names; the Docs button shows the schema.\n" +
    "{\n  me {\n    username\n    roles { role setting { code name } }\n  }\n  settings { code name }\n}\n";
  var token = null;
  var signedIn = ""; // "Logged in as … until …"
  var setByAdministrator = null; // the password typed at login, kept only until the required change
  var generation = 0;
  var form = document.getElementById("estart-login");
  var status = document.getElementById("estart-status");
  var logout = document.getElementById("estart-logout-button");
  var newPassword = document.getElementById("estart-new-password");
  var change = document.getElementById("estart-change-button");

  // A password an administrator set must be changed before anything else (the schema included).
  function askForNewPassword(current) {
    setByAdministrator = current;
    newPassword.parentElement.hidden = current === null;
    change.hidden = current === null;
    newPassword.value = "";
  }

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
        } else if (extensions.reason === "PASSWORD_CHANGE_REQUIRED") {
          say("Change your password first: log in again and choose a new one.", true);
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
        logout.hidden = false;
        var roles = login.user.roles.map(function (r) {
          return r.role + " in " + (r.setting ? r.setting.code : "all settings");
        });
        signedIn = "Logged in as " + login.user.username + " (" + roles.join(", ") + ") until " + login.expiresAt;
        if (login.mustChangePassword) {
          askForNewPassword(password.value);
          say(signedIn + ". An administrator set this password: choose your own, then Change password.", true);
          newPassword.focus();
        } else {
          say(signedIn, false);
          render();
        }
        password.value = "";
      })
      .catch(function (error) {
        say("Login failed: " + error, true);
      });
  });

  change.addEventListener("click", function () {
    post({ query: CHANGE, variables: { c: setByAdministrator, n: newPassword.value } }, authorization())
      .then(function (result) {
        if (!(result.data && result.data.changePassword)) {
          say((result.errors && result.errors[0].message) || "The password was not changed", true);
          return;
        }
        askForNewPassword(null);
        say(signedIn + ". Password changed.", false);
        render();
      })
      .catch(function (error) {
        say("The password was not changed: " + error, true);
      });
  });

  logout.addEventListener("click", function () {
    var headers = authorization();
    token = null;
    askForNewPassword(null);
    logout.hidden = true;
    post({ query: "mutation { logout }" }, headers).finally(function () {
      say("Logged out.", false);
      render();
    });
  });

  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  render();
})();
