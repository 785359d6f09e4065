// Loaded on demand, the first time a message contains math: KaTeX and its
// stylesheet and fonts weigh more than the rest of the app.
import katex from 'katex';
import 'katex/dist/katex.min.css';

export default katex;
