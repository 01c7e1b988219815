export * from './ssrfGuard.ts';
export * from './callback.ts';
export * from './email.ts';
export * from './exportStore.ts';
export * from './downloadLink.ts';
export * from './mailAddress.ts';
