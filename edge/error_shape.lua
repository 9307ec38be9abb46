-- Give every error a REST client sees the one TradeSage shape (DESIGN.md section 2):
--   {"error": {"code": "REASON", "message": "...", "details": {...}}}
-- Services render that body themselves and send it as the x-tradesage-error trailer; errors
-- from proxies (no such trailer) arrive as the transcoder's {"code":N,"message":"..."} and are
-- reshaped here. Envoy's own local replies are shaped by local_reply_config instead.

local GRPC_CODE_NAMES = {
  [1] = "CANCELLED", [2] = "UNKNOWN", [3] = "INVALID_ARGUMENT", [4] = "DEADLINE_EXCEEDED",
  [5] = "NOT_FOUND", [6] = "ALREADY_EXISTS", [7] = "PERMISSION_DENIED",
  [8] = "RESOURCE_EXHAUSTED", [9] = "FAILED_PRECONDITION", [10] = "ABORTED",
  [11] = "OUT_OF_RANGE", [12] = "UNIMPLEMENTED", [13] = "INTERNAL", [14] = "UNAVAILABLE",
  [15] = "DATA_LOSS", [16] = "UNAUTHENTICATED",
}

local function is_grpc(headers)
  local content_type = headers:get("content-type") or ""
  return content_type:find("application/grpc", 1, true) == 1
end

local function replace_body(handle, body)
  handle:body():setBytes(body)
  -- Buffering the body invalidates header handles taken before it: take a fresh one.
  local headers = handle:headers()
  headers:replace("content-type", "application/json")
  headers:replace("content-length", tostring(#body))
end

local function reshape_transcoded_status(handle)
  local buffer = handle:body()
  if buffer == nil then
    return
  end
  local body = buffer:getBytes(0, buffer:length())
  local code = tonumber(body:match('^{"code":(%d+)'))
  if code == nil then
    return
  end
  -- The message stays JSON-escaped as the transcoder wrote it, so it can be spliced back in.
  local message = body:match('"message":"(.-)","details"') or ""
  local name = GRPC_CODE_NAMES[code] or "UNKNOWN"
  replace_body(handle, '{"error":{"code":"' .. name .. '","message":"' .. message .. '"}}')
end

function envoy_on_response(handle)
  local headers = handle:headers()
  local rendered = headers:get("x-tradesage-error")
  if rendered ~= nil then
    headers:remove("x-tradesage-error")
  end
  if is_grpc(headers) then
    return -- gRPC and gRPC-Web clients read the status and its google.rpc details instead.
  end
  local status = tonumber(headers:get(":status")) or 200
  if status < 400 then
    return
  end
  if rendered ~= nil then
    replace_body(handle, rendered)
  elseif (headers:get("content-type") or ""):find("application/json", 1, true) == 1 then
    reshape_transcoded_status(handle)
  end
end
