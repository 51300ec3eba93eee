import { existsSync } from 'node:fs';

/** Files of the Debian packages `libpocketsphinx3` and `pocketsphinx-en-us`. */
export const DEBIAN_MODEL_DIR = '/usr/share/pocketsphinx/model/en-us';
export const DEBIAN_MODEL = {
  hmm: `${DEBIAN_MODEL_DIR}/en-us`,
  lm: `${DEBIAN_MODEL_DIR}/en-us.lm.bin`,
  dict: `${DEBIAN_MODEL_DIR}/cmudict-en-us.dict`,
} as const;

/** Sonames opened with dlopen's normal search path (5prealpha ABI). */
export const POCKETSPHINX_SONAME = 'libpocketsphinx.so.3';
export const SPHINXBASE_SONAME = 'libsphinxbase.so.3';

export const POCKETSPHINX_INSTALL_HINT = 'install it with `apt-get install libpocketsphinx3 pocketsphinx-en-us`';

const LIB_DIRS = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib', '/usr/local/lib'];

/** Cheap check (no dlopen) that the library looks installed, for engine selection. */
export function pocketsphinxLibraryInstalled(): boolean {
  return LIB_DIRS.some((dir) => existsSync(`${dir}/${POCKETSPHINX_SONAME}`) && existsSync(`${dir}/${SPHINXBASE_SONAME}`));
}

export function pocketsphinxModelInstalled(model: { hmm: string; lm: string; dict: string } = DEBIAN_MODEL): boolean {
  return existsSync(`${model.hmm}/mdef`) && existsSync(model.lm) && existsSync(model.dict);
}
