-- Twofold forward-auth for HAProxy (2.5 or later: core.httpclient). The action asks Twofold's
-- GET /v1/forward-auth about the request (its method, host, URI, client address, and the
-- person's cookie or token) and leaves the answer in transaction variables, which haproxy.cfg
-- turns into a redirect, a refusal, or the identity headers for the app.
local forwarded = { "cookie", "authorization", "dpop" }
-- ssl_fc is a boolean sample, which some HAProxy versions hand to Lua as 0 or 1.
local function scheme(txn)
  local tls = txn.f:ssl_fc()
  return (tls == true or tls == 1) and "https" or "http"
end
local answered = {
  location = "txn.twofold_location",
  ["remote-user"] = "txn.twofold_user",
  ["remote-acr"] = "txn.twofold_acr",
  ["remote-amr"] = "txn.twofold_amr",
  ["x-twofold-assertion"] = "txn.twofold_assertion",
}

core.register_action("twofold_forward_auth", { "http-req" }, function(txn, endpoint)
  local headers = {
    ["x-forwarded-method"] = { txn.sf:method() },
    ["x-forwarded-proto"] = { scheme(txn) },
    ["x-forwarded-host"] = { txn.sf:req_fhdr("host") },
    ["x-forwarded-uri"] = { txn.sf:url() },
    ["x-forwarded-for"] = { txn.sf:src() },
  }
  for _, name in ipairs(forwarded) do
    local value = txn.sf:req_fhdr(name)
    if value ~= nil and value ~= "" then headers[name] = { value } end
  end
  local response = core.httpclient():get({ url = endpoint, headers = headers, timeout = 5000 })
  -- No answer (Twofold down): status 0, which haproxy.cfg refuses with 503.
  txn:set_var("txn.twofold_status", response and response.status or 0)
  if not response or not response.headers then return end
  for name, variable in pairs(answered) do
    local values = response.headers[name]
    if values ~= nil and values[0] ~= nil then txn:set_var(variable, values[0]) end
  end
end, 1)
