/** Real-shaped FERPlus files (fer2013.csv and fer2013new.csv, rows in the same order) for the specs. */

const HEADER_NEW = 'Usage,Image name,neutral,happiness,surprise,sadness,anger,disgust,fear,contempt,unknown,NF'

/** 48×48 pixels as fer2013.csv writes them, every value `v` except the first, which is `first`. */
export function pixelText(v: number, first = v): string {
  return [first, ...new Array(48 * 48 - 1).fill(v)].join(' ')
}

export type FerRow = [usage: string, name: string, votes: number[], pixel: number]

/** The two files' contents, one row per [usage, image name, 10 votes, pixel value]. */
export function ferplusFiles(rows: FerRow[]): Record<'fer2013.csv' | 'fer2013new.csv', string> {
  return {
    'fer2013.csv': ['emotion,pixels,Usage', ...rows.map(([usage, , , v], i) => `${i % 7},${pixelText(v, i)},${usage}`)].join('\n') + '\n',
    'fer2013new.csv': [HEADER_NEW, ...rows.map(([usage, name, votes]) => `${usage},${name},${votes.join(',')}`)].join('\n') + '\n',
  }
}
