// ClickHouse error code -> HTTP status, transcribed from ClickHouse's
// src/Server/HTTP/exceptionCodeToHTTPStatus.cpp so clients see the statuses a server would send.
// (READONLY, 164, is not in that table: a server answers it with 500, and so do we.)
const STATUS: Array<[number, number[]]> = [
  [401, [194]], // REQUIRED_PASSWORD
  [403, [192, 193, 516, 512, 497]], // UNKNOWN_USER WRONG_PASSWORD AUTHENTICATION_FAILED SET_NON_GRANTED_ROLE ACCESS_DENIED
  [
    400,
    // BAD_ARGUMENTS CANNOT_COMPILE_REGEXP CANNOT_PARSE_* DUPLICATE_COLUMN ILLEGAL_COLUMN UNKNOWN_ELEMENT_IN_AST
    // UNKNOWN_TYPE_OF_AST_NODE THERE_IS_NO_COLUMN TOO_DEEP_AST TOO_BIG_AST UNEXPECTED_AST_STRUCTURE
    // SYNTAX_ERROR INCORRECT_DATA TYPE_MISMATCH VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE
    [36, 427, 6, 25, 26, 38, 41, 72, 441, 675, 676, 27, 376, 15, 44, 37, 123, 8, 167, 168, 223, 62, 117, 53, 321],
  ],
  // UNKNOWN_TABLE UNKNOWN_FUNCTION UNKNOWN_IDENTIFIER UNKNOWN_TYPE UNKNOWN_STORAGE UNKNOWN_DATABASE UNKNOWN_SETTING
  // UNKNOWN_DIRECTION_OF_SORTING UNKNOWN_AGGREGATE_FUNCTION UNKNOWN_FORMAT UNKNOWN_DATABASE_ENGINE
  // UNKNOWN_TYPE_OF_QUERY UNKNOWN_ROLE
  [404, [60, 46, 47, 50, 56, 81, 115, 152, 63, 73, 336, 78, 511]],
  [413, [229]], // QUERY_IS_TOO_LARGE
  [501, [48]], // NOT_IMPLEMENTED
  // SOCKET_TIMEOUT CANNOT_OPEN_FILE CANNOT_SCHEDULE_TASK; ours: TOO_MANY_SIMULTANEOUS_QUERIES is backpressure
  [503, [209, 76, 439, 202]],
  [411, [381]], // HTTP_LENGTH_REQUIRED
  [408, [159]], // TIMEOUT_EXCEEDED
  [415, [779]], // UNSUPPORTED_MEDIA_TYPE
];

const byCode = new Map<number, number>();
for (const [status, codes] of STATUS) for (const c of codes) byCode.set(c, status);

export function httpStatusFor(code: number): number {
  return byCode.get(code) ?? 500;
}

export interface ErrorReply {
  code: number;
  status: number;
  body: string;
}

/** Normalises any thrown value to ClickHouse's text error form ("Code: N. DB::Exception: ... (NAME)"). */
export function toErrorReply(err: unknown): ErrorReply {
  const message = err instanceof Error ? err.message : String(err);
  const fromMessage = /^Code: (\d+)\./.exec(message);
  const fromProp = (err as { clickhouseCode?: unknown; code?: unknown } | null) ?? {};
  let code: number | undefined = fromMessage ? Number(fromMessage[1]) : undefined;
  if (code === undefined && typeof fromProp.clickhouseCode === 'number') code = fromProp.clickhouseCode;
  if (code === undefined && typeof fromProp.code === 'number') code = fromProp.code;
  const body = fromMessage
    ? message
    : `Code: ${code ?? 1001}. DB::Exception: ${message}. (${code ? 'UNKNOWN_EXCEPTION' : 'STD_EXCEPTION'})`;
  const finalCode = code ?? 1001;
  return { code: finalCode, status: httpStatusFor(finalCode), body: body.endsWith('\n') ? body : `${body}\n` };
}
