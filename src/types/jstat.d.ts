// Minimal typings for the parts of jstat ECV uses (jstat ships none). jstat is CommonJS:
// import it as `import jstatPkg from 'jstat'; const { jStat } = jstatPkg;`.
declare module 'jstat' {
  interface Dist {
    pdf(x: number, ...params: number[]): number;
    cdf(x: number, ...params: number[]): number;
    inv(p: number, ...params: number[]): number;
  }
  interface JStat {
    normal: Dist;
    studentt: Dist;
    beta: Dist;
    chisquare: Dist;
    gammaln(x: number): number;
    betaln(a: number, b: number): number;
    mean(a: number[]): number;
    median(a: number[]): number;
    stdev(a: number[], sample?: boolean): number;
    variance(a: number[], sample?: boolean): number;
  }
  const jstatPkg: { jStat: JStat };
  export default jstatPkg;
}
