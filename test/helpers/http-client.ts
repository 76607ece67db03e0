// A small fetch-based client for tests that talk to real server processes over a socket. Every
// request is abandoned after 15 s, so a hang shows up as a failure of its own, not a test timeout.

export interface HttpResult {
  status: number;
  headers: Headers;
  contentType: string;
  body: any;
}

export async function call(baseUrl: string, method: string, path: string, body?: unknown, token?: string): Promise<HttpResult> {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    signal: AbortSignal.timeout(15_000),
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, contentType: response.headers.get('content-type') ?? '', body: text === '' ? undefined : JSON.parse(text) };
}
