import { redactText } from "../redact";

/**
 * RFC 9457 problem details. Every API error leaves the server as `application/problem+json`
 * `{ type, title, status, detail, errors? }`; HttpProblem is thrown anywhere below a route and turned into
 * that response by the route wrapper (server/http/route.ts). A detail never shows a credential: URLs in it are
 * redacted (server/redact.ts).
 */

export interface FieldError {
  /** Where the bad value is, e.g. "body.name" or "query.limit". */
  path: string;
  message: string;
}

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: FieldError[];
}

const TITLES: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  409: "Conflict",
  413: "Content Too Large",
  415: "Unsupported Media Type",
  422: "Unprocessable Content",
  429: "Too Many Requests",
  500: "Internal Server Error",
  503: "Service Unavailable",
};

export const PROBLEM_CONTENT_TYPE = "application/problem+json";

export class HttpProblem extends Error {
  readonly status: number;
  readonly slug: string;
  readonly errors: FieldError[] | undefined;
  readonly headers: Record<string, string> | undefined;

  constructor(
    status: number,
    slug: string,
    detail: string,
    extra: { errors?: FieldError[]; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(detail, { cause: extra.cause });
    this.name = "HttpProblem";
    this.status = status;
    this.slug = slug;
    this.errors = extra.errors;
    this.headers = extra.headers;
  }

  toBody(): ProblemBody {
    const body: ProblemBody = {
      type: `urn:whisper:problem:${this.slug}`,
      title: TITLES[this.status] ?? "Error",
      status: this.status,
      detail: redactText(this.message),
    };
    if (this.errors !== undefined) body.errors = this.errors;
    return body;
  }
}

export function problemResponse(problem: HttpProblem): Response {
  return new Response(JSON.stringify(problem.toBody()), {
    status: problem.status,
    headers: { "content-type": PROBLEM_CONTENT_TYPE, "cache-control": "no-store", ...problem.headers },
  });
}

export const badRequest = (detail: string, errors?: FieldError[]) =>
  new HttpProblem(400, "bad-request", detail, { errors });
export const notFound = (detail: string) => new HttpProblem(404, "not-found", detail);
export const conflict = (detail: string) => new HttpProblem(409, "conflict", detail);
export const unauthorized = (detail: string) =>
  new HttpProblem(401, "unauthorized", detail, { headers: { "www-authenticate": 'Bearer realm="whisper"' } });
export const unavailable = (detail: string, cause?: unknown) =>
  new HttpProblem(503, "unavailable", detail, { cause });
