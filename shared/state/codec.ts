/** The JSON the warehouse's state files hold: pretty-printed, one trailing newline. */
export const encodeJson = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;
export const decodeJson = <T>(bytes: Uint8Array): T => JSON.parse(new TextDecoder().decode(bytes)) as T;
